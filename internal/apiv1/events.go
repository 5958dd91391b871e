package apiv1

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/events"
)

// EventLog is what the events resource needs: events.Log's queries.
type EventLog interface {
	List(ctx context.Context, caller events.Owner, q events.Query) (events.EventPage, error)
	Summary(ctx context.Context, caller events.Owner, q events.Query) (events.Summary, error)
}

// WithEventLog serves /api/v1/events over l.
func WithEventLog(l EventLog) Option { return func(a *api) { a.evlog = l } }

// eventParams are the query parameters /api/v1/events takes.
var eventParams = []string{"repository", "tag", "type", "actor", "since", "until", "outcome", "limit", "cursor"}

// events serves /api/v1/events (rest is what follows it):
//
//	GET /api/v1/events?repository=&tag=&type=&actor=&since=&until=&outcome=&limit=&cursor=
//	    a page of the events of the caller's repositories, newest first,
//	    and the cursor of the next page
//	GET /api/v1/events/summary?repository=&type=&actor=&since=&until=&outcome=
//	    pulls and pushes per repository and per actor, failures by code
//
// An owner sees the events of the repositories it owns, nothing else; a
// caller who owns none gets an empty list.
func (a *api) events(w http.ResponseWriter, r *http.Request, caller *auth.Caller, rest string) error {
	if a.evlog == nil || (rest != "" && rest != "summary") {
		return notFound(r)
	}
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, "GET")
	}
	q, err := eventQuery(r.URL.Query(), time.Now(), rest == "")
	if err != nil {
		return err
	}
	owner := events.Owner{ID: caller.ID, Bindings: caller.Bindings}
	var v any
	if rest == "summary" {
		v, err = a.evlog.Summary(r.Context(), owner, q)
	} else {
		v, err = a.evlog.List(r.Context(), owner, q)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// eventQuery reads the parameters of an events request; paged says
// whether limit and cursor apply. A parameter it does not know, or given
// twice, is refused rather than ignored: a misspelt filter would
// otherwise widen the answer silently.
func eventQuery(v url.Values, now time.Time, paged bool) (events.Query, error) {
	var q events.Query
	for name, vals := range v {
		known := false
		for _, p := range eventParams {
			known = known || p == name && (paged || name != "limit" && name != "cursor")
		}
		switch {
		case !known:
			return q, errorf(http.StatusBadRequest, codeInvalid, "unknown parameter %q", name)
		case len(vals) != 1:
			return q, errorf(http.StatusBadRequest, codeInvalid, "parameter %q given %d times", name, len(vals))
		}
	}
	q.Tag = v.Get("tag")
	q.Repository, q.Type, q.Actor, q.Outcome, q.Cursor = v.Get("repository"), v.Get("type"), v.Get("actor"), v.Get("outcome"), v.Get("cursor")
	var err error
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(t.name); s != "" {
			if *t.dst, err = events.ParseTime(s, now); err != nil {
				return q, errorf(http.StatusBadRequest, codeInvalid, "%s: %v", t.name, err)
			}
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > events.MaxPage {
			return q, errorf(http.StatusBadRequest, codeInvalid, "limit must be a number from 1 to %d, not %q", events.MaxPage, s)
		}
	}
	return q, nil
}
