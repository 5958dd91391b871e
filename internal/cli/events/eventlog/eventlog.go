// Package eventlog is what `chainctl events list` and `events summary`
// share: the /api/v1/events API as typed calls on an api.Client, the
// flags that filter it, and the wording of its errors.
package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/events"
)

// Filter is the flags both commands take.
type Filter struct {
	Repository string
	Tag        string
	Types      []string
	Actor      string
	Since      string
	Until      string
	Failed     bool
}

// AddFlags registers the filter's flags on fs.
func (f *Filter) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Repository, "repository", "", "only events of repositories matching `PATTERN` (acme/app, acme/*)")
	fs.StringVar(&f.Tag, "tag", "", "only events of `TAG` (with one --repository, not a pattern)")
	fs.StringSliceVar(&f.Types, "type", nil, "only events of `TYPE`: push or pull")
	fs.StringVar(&f.Actor, "actor", "", "only events by `ACTOR`: an identity or pull-token id, or identity:ID, pull-token:ID, anonymous")
	fs.StringVar(&f.Since, "since", "", "only events at or after `TIME`: RFC 3339, a date, or a duration back from now (24h, 7d)")
	fs.StringVar(&f.Until, "until", "", "only events before `TIME` (same forms as --since)")
	fs.BoolVar(&f.Failed, "failed", false, "only requests that failed")
}

// Check refuses flags the registry would refuse, before anything is
// sent: a *cmdutil.FlagError.
func (f *Filter) Check(now time.Time) error {
	for _, t := range []struct{ name, v string }{{"--since", f.Since}, {"--until", f.Until}} {
		if t.v == "" {
			continue
		}
		if _, err := events.ParseTime(t.v, now); err != nil {
			return cmdutil.FlagErrorf("%s: %v", t.name, err)
		}
	}
	if f.Tag != "" && (f.Repository == "" || strings.Contains(f.Repository, "*")) {
		return cmdutil.FlagErrorf("--tag needs one --repository, such as acme/app")
	}
	types, err := shared.ParseTypes(f.Types)
	if err != nil {
		return err
	}
	if len(types) == 2 {
		types = nil // both types is no filter
	}
	f.Types = types
	return nil
}

// Values are the query parameters f asks for.
func (f *Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("repository", f.Repository)
	set("tag", f.Tag)
	if len(f.Types) == 1 {
		set("type", f.Types[0])
	}
	set("actor", f.Actor)
	set("since", f.Since)
	set("until", f.Until)
	if f.Failed {
		v.Set("outcome", "failed")
	}
	return v
}

// Event is an event as the API returns it, with its raw form for -o json.
type Event struct {
	events.EventView
	Raw json.RawMessage `json:"-"`
}

// Page is a page of events, newest first.
type Page struct {
	Events     []Event
	NextCursor string
}

// List returns a page of events: limit 0 is the registry's default,
// cursor "" the newest.
func List(ctx context.Context, c *api.Client, q url.Values, limit int, cursor string) (*Page, error) {
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	if limit > 0 {
		q2.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q2.Set("cursor", cursor)
	}
	var resp struct {
		Events     []json.RawMessage `json:"events"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := c.Do(ctx, http.MethodGet, withQuery("events", q2), nil, &resp); err != nil {
		return nil, err
	}
	page := &Page{Events: make([]Event, 0, len(resp.Events)), NextCursor: resp.NextCursor}
	for _, raw := range resp.Events {
		var e Event
		if err := json.Unmarshal(raw, &e.EventView); err != nil {
			return nil, errors.New("decode event: not an event object")
		}
		e.Raw = raw
		page.Events = append(page.Events, e)
	}
	return page, nil
}

// Summary returns the summary of the events q selects.
func Summary(ctx context.Context, c *api.Client, q url.Values) (*events.Summary, json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodGet, withQuery("events/summary", q), nil, &raw); err != nil {
		return nil, nil, err
	}
	var s events.Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, errors.New("decode summary: not a summary object")
	}
	return &s, raw, nil
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// MapError is api.MapError worded for the event log: a 404 means the
// registry has no event log API, a 400 is the registry's word on a flag.
func MapError(err error) error {
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case http.StatusNotFound:
			return &cmdutil.HintError{Err: errors.New("this registry has no event log API"),
				Hint: "it may be older than `chainctl events list`: upgrade it, or check --registry"}
		case http.StatusBadRequest:
			return fmt.Errorf("the registry refused the query: %s", apiErr.Message)
		}
	}
	return api.MapError(err, api.ErrorText{Forbidden: "the event log shows owners the events of their repositories"})
}
