// Package shared is what the `chainctl auth pull-token` commands, and
// `chainctl auth configure-docker --pull-token`, share: the
// /api/v1/pull-tokens API as typed calls on an api.Client, the wording
// of its errors, and the repository and TTL flags.
package shared

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/pulltoken"
)

// PullToken is a pull token as the API returns it. Times are RFC 3339
// text, kept as text so that an absent one (LastUsed of a token never
// used) stays "".
type PullToken struct {
	// ID is the token's id, "pt-" and 20 characters: the username
	// clients send.
	ID           string   `json:"id"`
	Name         string   `json:"name,omitempty"`
	Description  string   `json:"description,omitempty"`
	Repositories []string `json:"repositories"`
	Creator      string   `json:"creator,omitempty"`
	Created      string   `json:"created,omitempty"`
	Expires      string   `json:"expires,omitempty"`
	LastUsed     string   `json:"last_used,omitempty"`
	Expired      bool     `json:"expired"`
	// Secret is the password. The registry sends it once, in the answer
	// to create, and keeps only a hash. Its type hides it from %v and
	// from logs.
	Secret pulltoken.Secret `json:"secret,omitempty"`

	// Raw is the object as the API sent it, for -o json.
	Raw RawJSON `json:"-"`
}

// RawJSON is a JSON object as the API sent it. It may hold a secret, so
// fmt shows only its size, whatever the verb.
type RawJSON []byte

// Format implements fmt.Formatter.
func (r RawJSON) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "RawJSON(%d bytes)", len(r)) }

// CreateRequest is the body of POST /api/v1/pull-tokens.
type CreateRequest struct {
	Name         string   `json:"name,omitempty"`
	Description  string   `json:"description,omitempty"`
	Repositories []string `json:"repositories"`
	// TTLSeconds is the token's lifetime; 0 leaves it to the registry
	// (720h unless configured otherwise).
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// CreatePullToken creates a pull token and returns it with its secret.
// An answer without a well-formed id and secret is an error (that never
// quotes the answer).
func CreatePullToken(ctx context.Context, c *api.Client, req CreateRequest) (*PullToken, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPost, "pull-tokens", req, &raw); err != nil {
		return nil, err
	}
	t, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if !pulltoken.ValidID(t.ID) || !pulltoken.Valid(string(t.Secret)) {
		return nil, errors.New("create pull token: the registry's answer has no valid token id and secret")
	}
	return t, nil
}

// ListPullTokens returns the pull tokens the caller may see: live ones,
// and expired ones too when expired is set.
func ListPullTokens(ctx context.Context, c *api.Client, expired bool) ([]PullToken, error) {
	path := "pull-tokens"
	if expired {
		path += "?expired=true"
	}
	var resp struct {
		PullTokens []json.RawMessage `json:"pull_tokens"`
	}
	if err := c.Do(ctx, http.MethodGet, path, nil, &resp); err != nil {
		return nil, err
	}
	out := make([]PullToken, 0, len(resp.PullTokens))
	for _, raw := range resp.PullTokens {
		t, err := decode(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// GetPullToken returns the pull token id; the error is an *api.Error
// with Status 404 if there is none.
func GetPullToken(ctx context.Context, c *api.Client, id string) (*PullToken, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodGet, api.Path("pull-tokens", id), nil, &raw); err != nil {
		return nil, err
	}
	return decode(raw)
}

// RevokePullToken revokes the pull token id: the registry refuses it
// from then on.
func RevokePullToken(ctx context.Context, c *api.Client, id string) error {
	return c.Do(ctx, http.MethodDelete, api.Path("pull-tokens", id), nil, nil)
}

// decode reads one pull token object, keeping its raw form. Its errors
// name no value: the object may hold a secret.
func decode(raw json.RawMessage) (*PullToken, error) {
	var t PullToken
	if err := json.Unmarshal(raw, &t); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("decode pull token: field %q has the wrong type", te.Field)
		}
		return nil, errors.New("decode pull token: not a JSON object")
	}
	t.Raw = RawJSON(raw)
	return &t, nil
}

// MaxTTLHint explains the registry's refusal of a long --ttl.
const MaxTTLHint = "the registry caps the lifetime of pull tokens (auth.pull_tokens.max_ttl, 8760h unless its operator " +
	"changed it): pass a shorter --ttl"

// MapError is api.MapError worded for pull tokens: a 403 says that pull
// tokens are managed by owners of every repository pattern they cover, a
// 404 names the token id (when id is not ""), or says that the registry
// has no pull tokens (when id is ""), and a refused TTL gets a hint.
func MapError(err error, id string) error {
	text := api.ErrorText{Forbidden: "you must be an owner of every repository pattern the pull token covers"}
	if id != "" {
		text.NotFound = fmt.Sprintf("no pull token %s: it may have been revoked already", id)
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Status == http.StatusNotFound && id == "":
			return &cmdutil.HintError{Err: errors.New("this registry has no pull-token API"),
				Hint: "it may be older than pull tokens: upgrade it, or check --registry"}
		case apiErr.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(apiErr.Message), "ttl"):
			return &cmdutil.HintError{Err: errors.New(apiErr.Message), Hint: MaxTTLHint}
		}
	}
	return api.MapError(err, text)
}
