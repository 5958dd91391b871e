package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// testEvents covers AppendEvents, EventsAfter and PurgeEvents.
func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.EventsAfter(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("EventsAfter of an empty log = %v, %v", got, err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	var batch []store.Event
	for i := range 5 {
		batch = append(batch, store.Event{
			ID: fmt.Sprintf("ev-%d", i), Type: "dev.chainctl.registry.pull.v1", Source: "https://r.example",
			Subject: fmt.Sprintf("acme/app:v%d", i), Time: t0.Add(time.Duration(i) * time.Hour),
			Repository: "acme/app", Failed: i%2 == 1, Actor: "pt-x", Data: fmt.Appendf(nil, `{"i":%d}`, i),
		})
	}
	if err := s.AppendEvents(ctx, batch[:3]); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	if err := s.AppendEvents(ctx, nil); err != nil {
		t.Errorf("AppendEvents(nil) = %v", err)
	}
	// A batch with an id already in the log adds nothing.
	if err := s.AppendEvents(ctx, []store.Event{batch[3], batch[0]}); !errors.Is(err, store.ErrExists) {
		t.Errorf("AppendEvents with a known id = %v, want ErrExists", err)
	}
	if err := s.AppendEvents(ctx, []store.Event{{ID: "incomplete", Type: "t"}}); err == nil {
		t.Error("AppendEvents of an incomplete event succeeded")
	}
	if err := s.AppendEvents(ctx, batch[3:]); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}

	all, err := s.EventsAfter(ctx, 0, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("EventsAfter(0) = %d events, %v, want 5", len(all), err)
	}
	for i, e := range all {
		want := batch[i]
		if e.ID != want.ID || e.Type != want.Type || e.Source != want.Source || e.Subject != want.Subject ||
			!e.Time.Equal(want.Time) || e.Repository != want.Repository || e.Failed != want.Failed ||
			e.Actor != want.Actor || string(e.Data) != string(want.Data) {
			t.Errorf("event %d = %+v, want %+v", i, e, want)
		}
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("seq %d after %d: not increasing", e.Seq, all[i-1].Seq)
		}
	}
	page, err := s.EventsAfter(ctx, all[1].Seq, 2)
	if err != nil || len(page) != 2 || page[0].ID != "ev-2" || page[1].ID != "ev-3" {
		t.Errorf("EventsAfter(seq of ev-1, 2) = %+v, %v, want ev-2, ev-3", page, err)
	}

	n, err := s.PurgeEvents(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("PurgeEvents(before ev-2) = %d, %v, want 2", n, err)
	}
	if rest, _ := s.EventsAfter(ctx, 0, 100); len(rest) != 3 || rest[0].ID != "ev-2" {
		t.Errorf("after purge: %+v, want ev-2..ev-4", rest)
	}
}
