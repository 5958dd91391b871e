// Package shared is what the `chainctl events subscriptions` commands
// share: the /api/v1/subscriptions API as typed calls on an api.Client,
// the wording of its errors, and the names of event types.
package shared

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/events"
)

// Subscription is a subscription as the API returns it, with the object
// as the API sent it (Raw) for -o json.
type Subscription struct {
	events.SubscriptionView
	Raw json.RawMessage `json:"-"`
}

// CreateRequest is the body of POST /api/v1/subscriptions.
type CreateRequest struct {
	Sink string `json:"sink"`
	// Types are "push", "pull" or full CloudEvents types; none is both.
	Types        []string `json:"types,omitempty"`
	Repositories []string `json:"repositories"`
	Description  string   `json:"description,omitempty"`
}

// CreateSubscription creates a subscription and returns it.
func CreateSubscription(ctx context.Context, c *api.Client, req CreateRequest) (*Subscription, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPost, "subscriptions", req, &raw); err != nil {
		return nil, err
	}
	s, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if !ValidID(s.ID) {
		return nil, errors.New("create subscription: the registry's answer has no valid subscription id")
	}
	return s, nil
}

// ListSubscriptions returns the subscriptions the caller may see.
func ListSubscriptions(ctx context.Context, c *api.Client) ([]Subscription, error) {
	var resp struct {
		Subscriptions []json.RawMessage `json:"subscriptions"`
	}
	if err := c.Do(ctx, http.MethodGet, "subscriptions", nil, &resp); err != nil {
		return nil, err
	}
	out := make([]Subscription, 0, len(resp.Subscriptions))
	for _, raw := range resp.Subscriptions {
		s, err := decode(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, nil
}

// GetSubscription returns the subscription id; the error is an
// *api.Error with Status 404 if there is none.
func GetSubscription(ctx context.Context, c *api.Client, id string) (*Subscription, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodGet, api.Path("subscriptions", id), nil, &raw); err != nil {
		return nil, err
	}
	return decode(raw)
}

// DeleteSubscription deletes the subscription id: its pending events are
// not delivered.
func DeleteSubscription(ctx context.Context, c *api.Client, id string) error {
	return c.Do(ctx, http.MethodDelete, api.Path("subscriptions", id), nil, nil)
}

// decode reads one subscription object, keeping its raw form.
func decode(raw json.RawMessage) (*Subscription, error) {
	var s Subscription
	if err := json.Unmarshal(raw, &s.SubscriptionView); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("decode subscription: field %q has the wrong type", te.Field)
		}
		return nil, errors.New("decode subscription: not a JSON object")
	}
	s.Raw = raw
	return &s, nil
}

// IDPrefix starts every subscription id.
const IDPrefix = "sub-"

// ValidID reports whether s has the form of a subscription id: "sub-" and
// 20 base32 characters (either case).
func ValidID(s string) bool {
	rest, ok := strings.CutPrefix(s, IDPrefix)
	if !ok || len(rest) != 20 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// sinkHint explains the registry's rules for sink URLs.
const sinkHint = "a sink must be an https URL; plain http is accepted only to a loopback address, " +
	"and only from a registry run with --dev or events.allow_private_sinks"

// MapError is api.MapError worded for subscriptions: a 403 says who may
// manage them, a 404 names the subscription (when id is not ""), or says
// that the registry has no events API (when id is ""), and a refused sink
// gets a hint.
func MapError(err error, id string) error {
	text := api.ErrorText{Forbidden: "subscriptions are managed by owners of every repository pattern they cover"}
	if id != "" {
		text.NotFound = fmt.Sprintf("no subscription %s: it may have been deleted already", id)
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Status == http.StatusNotFound && id == "":
			return &cmdutil.HintError{Err: errors.New("this registry has no events API"),
				Hint: "it may be older than event subscriptions: upgrade it, or check --registry"}
		case apiErr.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(apiErr.Message), "sink"):
			return &cmdutil.HintError{Err: errors.New(apiErr.Message), Hint: sinkHint}
		}
	}
	return api.MapError(err, text)
}

// ParseTypes reads --type values: "push", "pull" or full CloudEvents
// type names, comma-separated or repeated, without repeats. None is nil:
// the registry's default, both. A value of neither kind is a
// *cmdutil.FlagError.
func ParseTypes(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			switch strings.ToLower(t) {
			case "":
				continue
			case "push", events.TypePush:
				t = "push"
			case "pull", events.TypePull:
				t = "pull"
			default:
				return nil, cmdutil.FlagErrorf("--type %q: want push or pull", t)
			}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// ListDeliveries returns a page of the deliveries of subscription id:
// all, or the failed ones; cursor is the previous page's Next.
func ListDeliveries(ctx context.Context, c *api.Client, id string, failed bool, limit int, cursor string) (*events.DeliveryPage, error) {
	q := url.Values{}
	if failed {
		q.Set("failed", "true")
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	path := api.Path("subscriptions", id, "deliveries")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page events.DeliveryPage
	if err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Redeliver queues events again for subscription id, with their ids.
func Redeliver(ctx context.Context, c *api.Client, id string, req events.RedeliverRequest) (*events.RedeliverResult, error) {
	var res events.RedeliverResult
	if err := c.Do(ctx, http.MethodPost, api.Path("subscriptions", id, "redeliver"), req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// EnableSubscription delivers to subscription id again after it was
// disabled, and returns it.
func EnableSubscription(ctx context.Context, c *api.Client, id string) (*Subscription, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPost, api.Path("subscriptions", id, "enable"), struct{}{}, &raw); err != nil {
		return nil, err
	}
	return decode(raw)
}
