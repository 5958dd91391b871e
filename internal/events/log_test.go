package events_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

// recordLog records, through a Recorder into a real store, pushes and
// pulls of acme/app, acme/web and other/app, one a second from t0.
func recordLog(t *testing.T, st store.Store, t0 time.Time) {
	t.Helper()
	rec := events.NewRecorder(st, "https://r")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()
	alice := events.Actor{Identities: []string{"alice"}, Issuer: "https://idp", Subject: "alice@example.com"}
	pt := events.Actor{PullToken: "pt-ci"}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	recs := []struct {
		typ string
		d   events.Data
	}{
		{events.TypePull, events.Data{Repository: "acme/app", Tag: "v1", Digest: "sha256:a", Type: events.KindManifest, Method: "GET", When: at(0), Actor: pt, RemoteAddr: "10.0.0.1", UserAgent: "crane/1"}},
		{events.TypePull, events.Data{Repository: "acme/web", Tag: "latest", Type: events.KindManifest, Method: "GET", When: at(1), Actor: pt,
			Error: &events.Error{Status: 404, Code: "MANIFEST_UNKNOWN", Message: "no"}}},
		{events.TypePull, events.Data{Repository: "other/app", Tag: "v1", Type: events.KindManifest, Method: "GET", When: at(2), Actor: alice}},
		{events.TypePull, events.Data{Repository: "acme/app", Tag: "v1", Digest: "sha256:b", Type: events.KindManifest, Method: "GET", When: at(3), Actor: alice}},
	}
	for _, r := range recs {
		rec.Record(r.typ, r.d)
	}
	cancel()
	<-done
	// Two pushes of acme/app:v1 and one by digest, in the writes'
	// transactions.
	for i, dg := range []string{"sha256:a", "sha256:b"} {
		m := &store.Manifest{Repository: "acme/app", Digest: digestOf(dg), MediaType: "application/vnd.oci.image.manifest.v1+json", Content: []byte(dg)}
		d := events.Data{Repository: "acme/app", Tag: "v1", Digest: m.Digest.String(), MediaType: m.MediaType, Type: events.KindManifest,
			Method: "PUT", When: at(10 + i), Actor: alice, RemoteAddr: "192.0.2.1", UserAgent: "crane/1"}
		if _, err := st.PutManifest(t.Context(), m, "v1", rec.Push(d)); err != nil {
			t.Fatal(err)
		}
	}
}

func owner(patterns ...policy.RepositoryPattern) events.Owner {
	return events.Owner{ID: "o", Bindings: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: patterns}}}
}

func TestLogListOwnership(t *testing.T) {
	st := openStore(t)
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	recordLog(t, st, t0)
	log := events.NewLog(st)
	viewerOfAll := events.Owner{ID: "v", Bindings: []policy.RoleBinding{{Role: policy.RoleEditor, Repositories: []policy.RepositoryPattern{"*"}}}}
	tests := []struct {
		name   string
		caller events.Owner
		q      events.Query
		want   []string // repository:type of each event, newest first
	}{
		{"owner of acme/* sees acme only", owner("acme/*"), events.Query{},
			[]string{"acme/app:push", "acme/app:push", "acme/app:pull", "acme/web:pull", "acme/app:pull"}},
		{"owner of *", owner("*"), events.Query{Type: "pull"},
			[]string{"acme/app:pull", "other/app:pull", "acme/web:pull", "acme/app:pull"}},
		{"narrower than owned", owner("acme/*"), events.Query{Repository: "acme/web"}, []string{"acme/web:pull"}},
		{"wider than owned", owner("acme/web"), events.Query{Repository: "*"}, []string{"acme/web:pull"}},
		{"asks for what it does not own", owner("acme/*"), events.Query{Repository: "other/*"}, []string{}},
		{"an editor of everything owns nothing", viewerOfAll, events.Query{}, []string{}},
		{"no bindings", events.Owner{ID: "x"}, events.Query{}, []string{}},
		{"failed", owner("*"), events.Query{Outcome: "failed"}, []string{"acme/web:pull"}},
		{"actor by bare id", owner("*"), events.Query{Actor: "pt-ci"}, []string{"acme/web:pull", "acme/app:pull"}},
		{"actor by key", owner("*"), events.Query{Actor: "identity:alice", Type: "push"}, []string{"acme/app:push", "acme/app:push"}},
		{"since and until", owner("*"), events.Query{Since: t0.Add(time.Second), Until: t0.Add(3 * time.Second)},
			[]string{"other/app:pull", "acme/web:pull"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := log.List(t.Context(), tt.caller, tt.q)
			if err != nil {
				t.Fatalf("List = %v", err)
			}
			got := []string{}
			for _, e := range page.Events {
				got = append(got, e.Repository+":"+e.Type)
			}
			if !slices.Equal(got, tt.want) || page.NextCursor != "" {
				t.Errorf("List(%s) = %v (next %q), want %v", tt.name, got, page.NextCursor, tt.want)
			}
		})
	}

	// Pages of two follow the cursor to the end.
	var seen []string
	q := events.Query{Limit: 2}
	for range 10 {
		page, err := log.List(t.Context(), owner("*"), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			seen = append(seen, e.ID)
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if len(seen) != 6 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 6 {
		t.Errorf("paged through %d events (%v), want the 6 distinct ones", len(seen), seen)
	}

	first, err := log.List(t.Context(), owner("*"), events.Query{Repository: "acme/web"})
	if err != nil || len(first.Events) != 1 {
		t.Fatalf("List = %+v, %v", first, err)
	}
	if e := first.Events[0]; e.Outcome != "failed" || e.Error == nil || e.Error.Code != "MANIFEST_UNKNOWN" || e.ActorKey != "pull-token:pt-ci" || e.Tag != "latest" {
		t.Errorf("failed pull = %+v", e)
	}
}

func TestLogListRefuses(t *testing.T) {
	log := events.NewLog(openStore(t))
	now := time.Now()
	for _, q := range []events.Query{
		{Repository: "acme/*/x"},
		{Repository: "ACME"},
		{Type: "delete"},
		{Outcome: "maybe"},
		{Limit: events.MaxPage + 1},
		{Limit: -1},
		{Since: now, Until: now.Add(-time.Hour)},
		{Cursor: "nonsense"},
		{Cursor: "e1.bm9wZQ"},
		{Actor: "a\nb"},
	} {
		if _, err := log.List(t.Context(), owner("*"), q); refusal(err) != events.KindInvalid {
			t.Errorf("List(%+v) = %v, want a KindInvalid refusal", q, err)
		}
	}
}

func TestLogSummary(t *testing.T) {
	st := openStore(t)
	recordLog(t, st, time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	sum, err := events.NewLog(st).Summary(t.Context(), owner("acme/*"), events.Query{})
	if err != nil {
		t.Fatal(err)
	}
	wantRepos := []events.SummaryRow{{Name: "acme/app", Pulls: 2, Pushes: 2}, {Name: "acme/web", Pulls: 1, Failed: 1}}
	wantActors := []events.SummaryRow{{Name: "identity:alice", Pulls: 1, Pushes: 2}, {Name: "pull-token:pt-ci", Pulls: 2, Failed: 1}}
	if sum.Total != 5 || !slices.Equal(sum.Repositories, wantRepos) || !slices.Equal(sum.Actors, wantActors) ||
		!slices.Equal(sum.Failures, []events.FailureCount{{Code: "MANIFEST_UNKNOWN", Count: 1}}) {
		t.Errorf("Summary = %+v", sum)
	}
	none, err := events.NewLog(st).Summary(t.Context(), owner("nobody/*"), events.Query{})
	if err != nil || none.Total != 0 || len(none.Repositories) != 0 {
		t.Errorf("Summary for an owner of nothing logged = %+v, %v", none, err)
	}
}

func TestTagHistory(t *testing.T) {
	st := openStore(t)
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	recordLog(t, st, t0)
	moves, err := events.NewLog(st).TagHistory(t.Context(), "acme/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	a, b := digestOf("sha256:a").String(), digestOf("sha256:b").String()
	if len(moves) != 2 || moves[0].Digest != b || moves[0].Previous != a || moves[1].Digest != a || moves[1].Previous != "" ||
		moves[0].ActorKey != "identity:alice" || moves[0].Actor.Subject != "alice@example.com" || moves[0].RemoteAddr != "192.0.2.1" ||
		moves[0].When != t0.Add(11*time.Second).Format(time.RFC3339Nano) {
		t.Errorf("TagHistory = %+v", moves)
	}
	if moves, err := events.NewLog(st).TagHistory(t.Context(), "acme/app", "v2"); err != nil || len(moves) != 0 {
		t.Errorf("TagHistory of a tag never pushed = %+v, %v", moves, err)
	}
}

func digestOf(s string) digest.Digest { return digest.FromString(s) }
