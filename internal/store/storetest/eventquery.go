package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

const (
	typePush = "dev.chainctl.registry.push.v1"
	typePull = "dev.chainctl.registry.pull.v1"
)

// queryLog is the log testQueryEvents queries: ten events, one a minute
// from t0, except that e4 and e5 share a nanosecond (their order is then
// by seq).
func queryLog(t0 time.Time) []store.Event {
	type ev struct {
		repo, typ, subject, actor, code string
		at                              time.Duration
	}
	evs := []ev{
		{"acme/app", typePush, "acme/app:v1", "identity:alice", "", 0},
		{"acme/app", typePull, "acme/app:v1", "pull-token:pt-1", "", 1},
		{"acme/web", typePull, "acme/web:latest", "identity:bob", "MANIFEST_UNKNOWN", 2},
		{"acme/sub/deep", typePush, "acme/sub/deep:v2", "identity:alice", "", 3},
		{"acme", typePull, "acme:v1", "anonymous", "UNAUTHORIZED", 4},
		{"acmex/app", typePull, "acmex/app:v1", "identity:alice", "", 4},
		{"other/app", typePush, "other/app:v1", "identity:carol", "", 6},
		{"acme/app", typePull, "acme/app:v1", "identity:bob", "DENIED", 7},
		{"acme/app", typePush, "acme/app:v1", "identity:bob", "", 8},
		{"acme/app", typePull, "acme/app@sha256:x", "anonymous", "", 9},
	}
	out := make([]store.Event, len(evs))
	for i, e := range evs {
		out[i] = store.Event{
			ID: fmt.Sprintf("q-%d", i), Type: e.typ, Source: "https://r.example", Subject: e.subject,
			Time: t0.Add(e.at * time.Minute), Repository: e.repo, Failed: e.code != "", Actor: e.actor,
			ErrorCode: e.code, Data: fmt.Appendf(nil, `{"i":%d}`, i),
		}
	}
	return out
}

// ids are the ids of events, in order.
func ids(events []store.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// testQueryEvents covers QueryEvents: each filter, the order, pagination
// by position while new events arrive, and the repository restriction
// callers use to show an owner only its repositories.
func testQueryEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	log := queryLog(t0)
	if err := s.AppendEvents(ctx, log); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	if _, err := s.QueryEvents(ctx, store.EventFilter{}); err == nil {
		t.Error("QueryEvents without a limit succeeded")
	}
	tests := []struct {
		name string
		f    store.EventFilter
		want []string
	}{
		{"all, newest first; a shared nanosecond by seq", store.EventFilter{},
			[]string{"q-9", "q-8", "q-7", "q-6", "q-5", "q-4", "q-3", "q-2", "q-1", "q-0"}},
		{"exact repository", store.EventFilter{Repositories: []string{"acme/app"}},
			[]string{"q-9", "q-8", "q-7", "q-1", "q-0"}},
		{"prefix: under acme/, not acme nor acmex/", store.EventFilter{Repositories: []string{"acme/"}},
			[]string{"q-9", "q-8", "q-7", "q-3", "q-2", "q-1", "q-0"}},
		{"several repositories", store.EventFilter{Repositories: []string{"acme", "other/", "acme/web"}},
			[]string{"q-6", "q-4", "q-2"}},
		{"a repository with no events", store.EventFilter{Repositories: []string{"nobody/"}}, []string{}},
		{"type", store.EventFilter{Type: typePush}, []string{"q-8", "q-6", "q-3", "q-0"}},
		{"type and prefix", store.EventFilter{Type: typePush, Repositories: []string{"acme/"}}, []string{"q-8", "q-3", "q-0"}},
		{"actors", store.EventFilter{Actors: []string{"identity:bob", "anonymous"}}, []string{"q-9", "q-8", "q-7", "q-4", "q-2"}},
		{"subject of pushes", store.EventFilter{Type: typePush, Subject: "acme/app:v1"}, []string{"q-8", "q-0"}},
		{"since, inclusive", store.EventFilter{Since: t0.Add(7 * time.Minute)}, []string{"q-9", "q-8", "q-7"}},
		{"until, exclusive", store.EventFilter{Until: t0.Add(2 * time.Minute)}, []string{"q-1", "q-0"}},
		{"failed", store.EventFilter{Outcome: store.Failed}, []string{"q-7", "q-4", "q-2"}},
		{"succeeded", store.EventFilter{Outcome: store.Succeeded, Repositories: []string{"acme/app"}}, []string{"q-9", "q-8", "q-1", "q-0"}},
		{"everything at once", store.EventFilter{Repositories: []string{"acme/"}, Type: typePull, Actors: []string{"identity:bob"},
			Since: t0.Add(time.Minute), Until: t0.Add(8 * time.Minute), Outcome: store.Failed}, []string{"q-7", "q-2"}},
		{"limit", store.EventFilter{Limit: 2}, []string{"q-9", "q-8"}},
		{"before a position", store.EventFilter{Before: store.EventPosition{Time: log[6].Time, Seq: 1 << 60}},
			[]string{"q-6", "q-5", "q-4", "q-3", "q-2", "q-1", "q-0"}},
		{"before the first seq of a nanosecond", store.EventFilter{Before: store.EventPosition{Time: log[6].Time}},
			[]string{"q-5", "q-4", "q-3", "q-2", "q-1", "q-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.f.Limit == 0 {
				tt.f.Limit = 100
			}
			got, err := s.QueryEvents(ctx, tt.f)
			if err != nil {
				t.Fatalf("QueryEvents(%+v) = %v", tt.f, err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("QueryEvents(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
		})
	}

	all, err := s.QueryEvents(ctx, store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		want := log[slices.IndexFunc(log, func(w store.Event) bool { return w.ID == e.ID })]
		if e.ErrorCode != want.ErrorCode || e.Actor != want.Actor || e.Subject != want.Subject ||
			!e.Time.Equal(want.Time) || e.Failed != want.Failed || string(e.Data) != string(want.Data) || e.Seq == 0 {
			t.Errorf("QueryEvents row %+v, want %+v", e, want)
		}
	}

	// Pages of two, with newer events recorded between pages: the pages
	// go on where the last one ended, skipping and repeating nothing.
	var paged []string
	f := store.EventFilter{Repositories: []string{"acme/", "acme"}, Limit: 2}
	for page := 0; ; page++ {
		got, err := s.QueryEvents(ctx, f)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(got) == 0 {
			break
		}
		paged = append(paged, ids(got)...)
		last := got[len(got)-1]
		f.Before = store.EventPosition{Time: last.Time, Seq: last.Seq}
		newer := store.Event{ID: fmt.Sprintf("new-%d", page), Type: typePull, Source: "s", Subject: "acme/app:v1",
			Time: t0.Add(time.Hour + time.Duration(page)*time.Minute), Repository: "acme/app", Actor: "anonymous", Data: []byte(`{}`)}
		if err := s.AppendEvents(ctx, []store.Event{newer}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"q-9", "q-8", "q-7", "q-4", "q-3", "q-2", "q-1", "q-0"}; !slices.Equal(paged, want) {
		t.Errorf("paged = %v, want %v", paged, want)
	}
}

// testSummarizeEvents covers SummarizeEvents over queryLog.
func testSummarizeEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := s.AppendEvents(ctx, queryLog(t0)); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	sum, err := s.SummarizeEvents(ctx, store.EventFilter{Repositories: []string{"acme/", "acme"}})
	if err != nil {
		t.Fatalf("SummarizeEvents = %v", err)
	}
	if sum.Total != 8 {
		t.Errorf("Total = %d, want 8", sum.Total)
	}
	wantRepos := []store.EventCount{
		{Key: "acme/app", Type: typePull, Count: 3, Failed: 1},
		{Key: "acme/app", Type: typePush, Count: 2},
		{Key: "acme", Type: typePull, Count: 1, Failed: 1},
		{Key: "acme/sub/deep", Type: typePush, Count: 1},
		{Key: "acme/web", Type: typePull, Count: 1, Failed: 1},
	}
	if !slices.Equal(sum.Repositories, wantRepos) {
		t.Errorf("Repositories = %+v, want %+v", sum.Repositories, wantRepos)
	}
	wantActors := []store.EventCount{
		{Key: "anonymous", Type: typePull, Count: 2, Failed: 1},
		{Key: "identity:alice", Type: typePush, Count: 2},
		{Key: "identity:bob", Type: typePull, Count: 2, Failed: 2},
		{Key: "identity:bob", Type: typePush, Count: 1},
		{Key: "pull-token:pt-1", Type: typePull, Count: 1},
	}
	if !slices.Equal(sum.Actors, wantActors) {
		t.Errorf("Actors = %+v, want %+v", sum.Actors, wantActors)
	}
	wantFailures := []store.EventCount{{Key: "DENIED", Count: 1}, {Key: "MANIFEST_UNKNOWN", Count: 1}, {Key: "UNAUTHORIZED", Count: 1}}
	if !slices.Equal(sum.Failures, wantFailures) {
		t.Errorf("Failures = %+v, want %+v", sum.Failures, wantFailures)
	}
	none, err := s.SummarizeEvents(ctx, store.EventFilter{Repositories: []string{"nobody"}})
	if err != nil || none.Total != 0 || len(none.Repositories)+len(none.Actors)+len(none.Failures) != 0 {
		t.Errorf("SummarizeEvents of nothing = %+v, %v", none, err)
	}
}
