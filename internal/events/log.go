package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

// The queries of the event log, which /api/v1/events (internal/apiv1) and
// a tag's history (/v2/<name>/_chainctl/history/<tag>, internal/registry)
// serve. An owner sees the events of the repositories it owns, the same
// rule as for subscriptions and pull tokens (policy.Manages); the event
// log goes back as far as events.retention.

// Page sizes of List.
const (
	DefaultPage = 100
	MaxPage     = 1000
	// maxHistory caps the moves TagHistory returns.
	maxHistory = 10000
)

// LogStore is what Log needs of the metadata store.
type LogStore interface {
	QueryEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	SummarizeEvents(ctx context.Context, f store.EventFilter) (store.EventSummary, error)
}

// Log answers queries of the event log.
type Log struct {
	st LogStore
}

// NewLog returns the queries of the event log kept in st.
func NewLog(st LogStore) *Log { return &Log{st: st} }

// Query selects events, as /api/v1/events's parameters say.
type Query struct {
	// Repository is a repository pattern (acme/app, acme/*, *); "" is
	// every repository the caller owns.
	Repository string
	// Tag, with an exact Repository, selects the events of that tag (by
	// tag, not by digest); "" is any.
	Tag string
	// Type is push, pull or a full event type; "" is both.
	Type string
	// Actor is an actor key (identity:ID, pull-token:ID, anonymous) or a
	// bare identity or pull-token id; "" is anyone.
	Actor string
	// Since and Until bound the events' time (Since included); zero for
	// no bound.
	Since, Until time.Time
	// Outcome is "failed", "succeeded" or "" for both.
	Outcome string
	// Limit is the page size: 0 is DefaultPage, at most MaxPage.
	Limit int
	// Cursor continues a listing where the page that returned it ended.
	Cursor string
}

// EventView is an event as the API shows it.
type EventView struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Time       string `json:"time"`
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	MediaType  string `json:"media_type,omitempty"`
	// Kind is manifest or blob.
	Kind       string `json:"kind,omitempty"`
	Method     string `json:"method,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
	Actor      Actor  `json:"actor"`
	// ActorKey names the actor in one string, as the actor parameter
	// takes it.
	ActorKey string `json:"actor_key"`
	// Outcome is "succeeded" or "failed".
	Outcome  string `json:"outcome"`
	Error    *Error `json:"error,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// EventPage is a page of a listing, newest first; NextCursor is "" on
// the last page.
type EventPage struct {
	Events     []EventView `json:"events"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// List returns a page of the events q selects among those of the
// repositories caller owns.
func (l *Log) List(ctx context.Context, caller Owner, q Query) (EventPage, error) {
	f, none, err := filter(caller, q)
	if err != nil || none {
		return EventPage{Events: []EventView{}}, err
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxPage:
		return EventPage{}, refuse(KindInvalid, "limit must be between 1 and %d", MaxPage)
	case q.Limit == 0:
		q.Limit = DefaultPage
	}
	if f.Before, err = parseCursor(q.Cursor); err != nil {
		return EventPage{}, err
	}
	// One more than the page tells whether there is a next page.
	f.Limit = q.Limit + 1
	rows, err := l.st.QueryEvents(ctx, f)
	if err != nil {
		return EventPage{}, err
	}
	page := EventPage{Events: make([]EventView, 0, min(len(rows), q.Limit))}
	for i, e := range rows {
		if i == q.Limit {
			last := rows[i-1]
			page.NextCursor = cursor(store.EventPosition{Time: last.Time, Seq: last.Seq})
			break
		}
		page.Events = append(page.Events, view(e))
	}
	return page, nil
}

// view is e as the API shows it; data that does not decode shows as the
// columns kept beside it.
func view(e store.Event) EventView {
	var d Data
	_ = json.Unmarshal(e.Data, &d)
	v := EventView{
		ID: e.ID, Type: ShortType(e.Type), Time: e.Time.UTC().Format(time.RFC3339Nano), Repository: e.Repository,
		Tag: d.Tag, Digest: d.Digest, MediaType: d.MediaType, Kind: d.Type, Method: d.Method,
		RemoteAddr: d.RemoteAddr, UserAgent: d.UserAgent, Actor: d.Actor, ActorKey: e.Actor,
		Outcome: "succeeded", Error: d.Error, Previous: d.Previous,
	}
	if e.Failed {
		v.Outcome = "failed"
	}
	return v
}

// ShortType names an event type for people: "push" for TypePush, "pull"
// for TypePull, and any other type as it is.
func ShortType(t string) string {
	switch t {
	case TypePush:
		return "push"
	case TypePull:
		return "pull"
	}
	return t
}

// filter is q as a store filter on the repositories caller owns; none
// when they are none of those q asks for.
func filter(caller Owner, q Query) (f store.EventFilter, none bool, err error) {
	asked := policy.PatternAll
	if q.Repository != "" {
		asked = policy.RepositoryPattern(q.Repository)
		if err := asked.Validate(); err != nil {
			return f, false, refuse(KindInvalid, "repository: %v", err)
		}
	}
	if q.Tag != "" {
		if strings.Contains(q.Repository, "*") || q.Repository == "" || len(q.Tag) > 128 {
			return f, false, refuse(KindInvalid, "tag needs one repository (acme/app), not a pattern")
		}
		f.Subject = q.Repository + ":" + q.Tag
	}
	if q.Type != "" {
		types, err := eventTypes([]string{q.Type})
		if err != nil {
			return f, false, err
		}
		f.Type = types[0]
	}
	switch q.Outcome {
	case "":
	case "failed":
		f.Outcome = store.Failed
	case "succeeded":
		f.Outcome = store.Succeeded
	default:
		return f, false, refuse(KindInvalid, "outcome %q: want failed or succeeded", q.Outcome)
	}
	if err := checkTime("since", q.Since); err != nil {
		return f, false, err
	}
	if err := checkTime("until", q.Until); err != nil {
		return f, false, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return f, false, refuse(KindInvalid, "since must be before until")
	}
	f.Since, f.Until = q.Since, q.Until
	if q.Actor != "" {
		if f.Actors, err = actorKeys(q.Actor); err != nil {
			return f, false, err
		}
	}
	f.Repositories, none = visible(caller.Bindings, asked)
	return f, none, nil
}

// actorKeys are the actor keys an actor parameter names: a key as it is,
// a bare id as either an identity or a pull token.
func actorKeys(a string) ([]string, error) {
	if len(a) > 512 || strings.ContainsFunc(a, func(r rune) bool { return r < ' ' }) {
		return nil, refuse(KindInvalid, "actor: want identity:ID, pull-token:ID, anonymous or an ID")
	}
	if a == "anonymous" || strings.HasPrefix(a, "identity:") || strings.HasPrefix(a, "pull-token:") {
		return []string{a}, nil
	}
	return []string{"identity:" + a, "pull-token:" + a}, nil
}

// visible is the part of the repositories asked selects that bindings
// own, as store selectors (an exact name, or a prefix ending in "/"); nil
// for every repository, none for no repository. Repository patterns nest
// or are disjoint, so each owned pattern meets asked in one of the two or
// in nothing.
func visible(bindings []policy.RoleBinding, asked policy.RepositoryPattern) (sel []string, none bool) {
	var out []policy.RepositoryPattern
	for _, b := range bindings {
		if b.Role != policy.RoleOwner {
			continue
		}
		for _, p := range b.Repositories {
			switch {
			case asked.Covers(p):
				out = append(out, p)
			case p.Covers(asked):
				out = append(out, asked)
			}
		}
	}
	if len(out) == 0 {
		return nil, true
	}
	for _, p := range out {
		if p == policy.PatternAll {
			return nil, false
		}
		base, prefix := strings.CutSuffix(string(p), "/*")
		if prefix {
			base += "/"
		}
		sel = append(sel, base)
	}
	slices.Sort(sel)
	return slices.Compact(sel), false
}

// cursorPrefix versions the cursor's form.
const cursorPrefix = "e1."

// cursor is an opaque form of a position in the log.
func cursor(p store.EventPosition) string {
	raw := strconv.FormatInt(p.Time.UnixNano(), 10) + "." + strconv.FormatInt(p.Seq, 10)
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseCursor reads a cursor; "" is the newest end of the log.
func parseCursor(c string) (store.EventPosition, error) {
	if c == "" {
		return store.EventPosition{}, nil
	}
	bad := refuse(KindInvalid, "cursor %q is not one this registry returned", c)
	rest, ok := strings.CutPrefix(c, cursorPrefix)
	if !ok || len(rest) > 64 {
		return store.EventPosition{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return store.EventPosition{}, bad
	}
	ts, seqs, ok := strings.Cut(string(raw), ".")
	t, terr := strconv.ParseInt(ts, 10, 64)
	seq, serr := strconv.ParseInt(seqs, 10, 64)
	if !ok || terr != nil || serr != nil || t <= 0 || seq <= 0 {
		return store.EventPosition{}, bad
	}
	return store.EventPosition{Time: time.Unix(0, t).UTC(), Seq: seq}, nil
}

// checkTime refuses a time bound a query cannot mean.
func checkTime(name string, t time.Time) error {
	if !t.IsZero() && (t.Year() < 1970 || t.Year() > 2200) {
		return refuse(KindInvalid, "%s %s is out of range", name, t.Format(time.RFC3339))
	}
	return nil
}

// ParseTime reads a time bound as the API and the CLI take it: RFC 3339
// (2026-05-04T09:00:00Z), a date (2026-05-04, midnight UTC), or a
// duration back from now: Go's (90m, 24h) or days (7d).
func ParseTime(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseUint(days, 10, 16); err == nil {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, checkTime("time", t)
		}
	}
	return time.Time{}, refuse(KindInvalid, "time %q: want RFC 3339 (2026-05-04T09:00:00Z), a date (2026-05-04) or a duration back from now (90m, 24h, 7d)", s)
}
