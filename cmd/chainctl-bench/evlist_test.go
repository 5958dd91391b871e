package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// TestEventListRows checks that the seeded rows are the registry's: the
// same Data recorded by an events.Recorder is the same row, but for its
// id.
func TestEventListRows(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := newEventGen(2000, time.Now())
	var want []store.Event
	kinds := map[string]bool{}
	for i := range 2000 {
		e := g.event(i)
		k := e.Type + " " + e.ErrorCode + " " + strings.SplitN(e.Actor, ":", 2)[0]
		if kinds[k] {
			continue
		}
		kinds[k] = true
		want = append(want, e)
	}
	if len(want) < 8 {
		t.Fatalf("the generator made %d kinds of events (type, error, actor), want several: %v", len(want), kinds)
	}
	rec := events.NewRecorder(st, evListSource)
	for _, e := range want {
		var d events.Data
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatalf("event data %s: %v", e.Data, err)
		}
		rec.Record(e.Type, d)
	}
	// Run writes what is queued, then returns as its context has ended.
	rctx, cancel := context.WithCancel(ctx)
	cancel()
	rec.Run(rctx)
	got, err := st.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("EventsAfter = %d events, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if len(w.ID) != 32 || !strings.HasPrefix(w.ID, g.ID[:4]) {
			t.Errorf("event id %q: want 32 hex digits, starting with the time like %q", w.ID, g.ID)
		}
		g.ID, g.Seq = w.ID, 0
		if !g.Time.Equal(w.Time) {
			t.Errorf("event %d: time %v, want %v", i, g.Time, w.Time)
		}
		g.Time = w.Time
		if !bytes.Equal(g.Data, w.Data) {
			t.Errorf("event %d: the recorder's data\n%s\nwant the seeded\n%s", i, g.Data, w.Data)
		}
		g.Data = w.Data
		if gs, ws := jsonString(t, g), jsonString(t, w); gs != ws {
			t.Errorf("event %d: the recorder's row\n%s\nwant the seeded\n%s", i, gs, ws)
		}
	}
}

// TestEventGenTimes checks the seeded events span the 7 days before the
// newest, evenly, at the default million events too.
func TestEventGenTimes(t *testing.T) {
	now := time.Now()
	for _, n := range []int{3, 3000, 1_000_000} {
		g := newEventGen(n, now)
		first, mid, last := g.at(0), g.at(n/2), g.at(n-1)
		if !first.Equal(now.Add(-evListSpan)) || last.Sub(now).Abs() > time.Microsecond || mid.Sub(now.Add(-evListSpan/2)).Abs() > evListSpan/time.Duration(n)+time.Microsecond {
			t.Errorf("n=%d: times %v, %v, %v; want 7 days back, 3.5, now (%v)", n, first, mid, last, now)
		}
	}
}

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEventList runs workload evlist's protocol on a small log, on SQLite
// and on PostgreSQL (skipped without a server): every event is seeded,
// every filter's page holds events that match it, and every figure is
// reported. It checks no timing.
func TestEventList(t *testing.T) {
	const n = 3000
	backends := []struct {
		name string
		meta func(t *testing.T) metaStore
	}{
		{"sqlite", func(t *testing.T) metaStore { return metaStore{kind: "sqlite", dir: t.TempDir()} }},
		{"postgres", func(t *testing.T) metaStore {
			pgtest.Exec(t, "SELECT 1") // skips without a server
			return metaStore{kind: "postgres", dsn: pgtest.DSN()}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			now := time.Now()
			l, err := seedEventLog(ctx, b.meta(t), n, now)
			if err != nil {
				t.Fatalf("seedEventLog = %v", err)
			}
			defer func() {
				if err := l.close(context.WithoutCancel(ctx)); err != nil {
					t.Errorf("close = %v", err)
				}
			}()
			sum, err := l.st.SummarizeEvents(ctx, store.EventFilter{})
			if err != nil || sum.Total != n {
				t.Fatalf("SummarizeEvents = %d events, %v; want %d", sum.Total, err, n)
			}
			for _, q := range evListQueries() {
				page, err := l.log.List(ctx, evListOwner, q.query(now))
				if err != nil {
					t.Fatalf("List(%s) = %v", q.about, err)
				}
				if len(page.Events) == 0 {
					t.Errorf("List(%s) = no events", q.about)
				}
				for _, e := range page.Events {
					if msg := mismatch(q.query(now), e); msg != "" {
						t.Errorf("List(%s): event %+v: %s", q.about, e, msg)
					}
				}
			}
			out, err := timeEventList(ctx, l, 3)
			if err != nil {
				t.Fatalf("timeEventList = %v", err)
			}
			want := 2*len(evListQueries()) + 1 // p50 and p99 each, and the seeding
			if len(out.values) != want {
				t.Errorf("timeEventList = %d figures %v, want %d", len(out.values), out.values, want)
			}
			for id, v := range out.values {
				if !(v > 0) || math.IsInf(v, 0) {
					t.Errorf("value %s = %v, want a positive number", id, v)
				}
			}
		})
	}
}

// mismatch says how e fails to match q, or "".
func mismatch(q events.Query, e events.EventView) string {
	owned := strings.HasPrefix(e.Repository, "acme/") || strings.HasPrefix(e.Repository, "team-b/")
	switch {
	case !owned:
		return "a repository the owner does not own"
	case strings.HasSuffix(q.Repository, "/*") && !strings.HasPrefix(e.Repository, strings.TrimSuffix(q.Repository, "*")):
		return "another repository"
	case q.Repository != "" && !strings.HasSuffix(q.Repository, "/*") && e.Repository != q.Repository:
		return "another repository"
	case q.Type != "" && e.Type != q.Type:
		return "another type"
	case q.Outcome != "" && e.Outcome != q.Outcome:
		return "another outcome"
	case q.Actor != "" && e.ActorKey != q.Actor:
		return "another actor"
	case q.Tag != "" && e.Tag != q.Tag:
		return "another tag"
	}
	if at, err := time.Parse(time.RFC3339Nano, e.Time); err != nil || at.Before(q.Since) {
		return "too old"
	}
	return ""
}
