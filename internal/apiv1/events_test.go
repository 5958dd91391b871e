package apiv1_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/apiv1"
	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// callers answers each session token with its caller.
type callers struct {
	fakeIdentities
	byToken map[string]*auth.Caller
}

func (c *callers) Caller(_ context.Context, tok string) (*auth.Caller, error) {
	if cl, ok := c.byToken[tok]; ok {
		return cl, nil
	}
	return nil, &auth.Error{Kind: auth.KindUnauthenticated, Message: "a session token is required"}
}

func ownerOf(id string, patterns ...policy.RepositoryPattern) *auth.Caller {
	return &auth.Caller{ID: id, Bindings: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: patterns}}}
}

// eventsServer serves the API over a real event log holding, one minute
// apart and newest last, a pull of each of acme/app, acme/web and
// other/app, then a failed pull of acme/app.
func eventsServer(t *testing.T) (*httptest.Server, time.Time) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	var log []store.Event
	for i, repo := range []string{"acme/app", "acme/web", "other/app", "acme/app"} {
		e := store.Event{ID: fmt.Sprintf("ev-%d", i), Type: events.TypePull, Source: "s", Subject: repo + ":v1",
			Time: t0.Add(time.Duration(i) * time.Minute), Repository: repo, Actor: "identity:ci",
			Data: fmt.Appendf(nil, `{"repository":%q,"tag":"v1","type":"manifest","remote_addr":"192.0.2.%d","user_agent":"crane"}`, repo, i)}
		if i == 3 {
			e.Failed, e.ErrorCode = true, "DENIED"
		}
		log = append(log, e)
	}
	if err := st.AppendEvents(t.Context(), log); err != nil {
		t.Fatal(err)
	}
	ids := &callers{byToken: map[string]*auth.Caller{
		"acme-owner": ownerOf("acme-owner", "acme/*"),
		"admin":      ownerOf("admin", "*"),
		"other":      ownerOf("other", "other/*"),
		"viewer":     {ID: "viewer", Bindings: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"*"}}}},
	}}
	srv := httptest.NewServer(apiv1.New(ids, apiv1.WithEventLog(events.NewLog(st))))
	t.Cleanup(srv.Close)
	return srv, t0
}

func get(t *testing.T, srv *httptest.Server, token, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %s: %v", path, b, err)
	}
	return resp.StatusCode
}

func TestEventsList(t *testing.T) {
	srv, t0 := eventsServer(t)
	tests := []struct {
		name, token, query string
		want               []string
	}{
		{"an owner sees its repositories", "acme-owner", "", []string{"ev-3", "ev-1", "ev-0"}},
		{"a pattern within them", "acme-owner", "?repository=acme/web", []string{"ev-1"}},
		{"a non-owner sees nothing of other repositories", "other", "?repository=acme/*", []string{}},
		{"nor when it asks for everything", "other", "?repository=*", []string{"ev-2"}},
		{"a viewer of everything owns nothing", "viewer", "", []string{}},
		{"failed", "admin", "?outcome=failed", []string{"ev-3"}},
		{"tag", "admin", "?repository=acme/web&tag=v1", []string{"ev-1"}},
		{"another tag", "admin", "?repository=acme/web&tag=v2", []string{}},
		{"since, absolute", "admin", "?since=" + url.QueryEscape(t0.Add(2*time.Minute).Format(time.RFC3339)), []string{"ev-3", "ev-2"}},
		{"since, relative", "admin", "?since=24h&type=pull", []string{"ev-3", "ev-2", "ev-1", "ev-0"}},
		{"actor", "admin", "?actor=ci&until=" + url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339)), []string{"ev-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var page events.EventPage
			if code := get(t, srv, tt.token, "/api/v1/events"+tt.query, &page); code != 200 {
				t.Fatalf("status %d", code)
			}
			got := []string{}
			for _, e := range page.Events {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("GET /api/v1/events%s as %s = %v, want %v", tt.query, tt.token, got, tt.want)
			}
		})
	}

	// Pages of one, by the cursor.
	var got []string
	path := "/api/v1/events?limit=1"
	for range 10 {
		var page events.EventPage
		if code := get(t, srv, "admin", path, &page); code != 200 {
			t.Fatalf("GET %s: status %d", path, code)
		}
		for _, e := range page.Events {
			got = append(got, e.ID)
			if e.RemoteAddr == "" || e.UserAgent != "crane" || e.ActorKey != "identity:ci" {
				t.Errorf("event %+v: want its address, user agent and actor", e)
			}
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/v1/events?limit=1&cursor=" + url.QueryEscape(page.NextCursor)
	}
	if want := []string{"ev-3", "ev-2", "ev-1", "ev-0"}; !slices.Equal(got, want) {
		t.Errorf("paged = %v, want %v", got, want)
	}
}

func TestEventsInvalid(t *testing.T) {
	srv, _ := eventsServer(t)
	for _, q := range []string{
		"?repository=acme/*/app", "?type=delete", "?outcome=maybe", "?limit=0", "?limit=5000", "?limit=x",
		"?since=yesterday", "?until=2026-13-01", "?cursor=zzz", "?repo=acme/app", "?type=pull&type=push",
		"?since=1h&until=2h", "?tag=v1", "?repository=acme/*&tag=v1",
	} {
		var e struct{ Error, Message string }
		if code := get(t, srv, "admin", "/api/v1/events"+q, &e); code != 400 || e.Error != "invalid" || e.Message == "" {
			t.Errorf("GET /api/v1/events%s = %d %+v, want 400 invalid with a message", q, code, e)
		}
	}
	var e struct{ Error string }
	if code := get(t, srv, "admin", "/api/v1/events/summary?cursor=x", &e); code != 400 {
		t.Errorf("summary with a cursor = %d, want 400", code)
	}
	if code := get(t, srv, "nobody", "/api/v1/events", &e); code != 401 {
		t.Errorf("without a session = %d, want 401", code)
	}
	if code := get(t, srv, "admin", "/api/v1/events/nope", &e); code != 404 {
		t.Errorf("GET /api/v1/events/nope = %d, want 404", code)
	}
}

func TestEventsSummary(t *testing.T) {
	srv, _ := eventsServer(t)
	var sum events.Summary
	if code := get(t, srv, "acme-owner", "/api/v1/events/summary?since=7d", &sum); code != 200 {
		t.Fatalf("status %d", code)
	}
	want := []events.SummaryRow{{Name: "acme/app", Pulls: 2, Failed: 1}, {Name: "acme/web", Pulls: 1}}
	if sum.Total != 3 || !slices.Equal(sum.Repositories, want) ||
		!slices.Equal(sum.Actors, []events.SummaryRow{{Name: "identity:ci", Pulls: 3, Failed: 1}}) ||
		!slices.Equal(sum.Failures, []events.FailureCount{{Code: "DENIED", Count: 1}}) {
		t.Errorf("summary = %+v", sum)
	}
	var none events.Summary
	if code := get(t, srv, "other", "/api/v1/events/summary?repository=acme/*", &none); code != 200 || none.Total != 0 || len(none.Repositories) != 0 {
		t.Errorf("a non-owner's summary of acme/* = %d %+v, want nothing", code, none)
	}
}
