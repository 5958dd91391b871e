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

// testEventBatches covers batches longer than one multi-row insert: every
// event in order, and each delivery bound to its own event's seq.
func testEventBatches(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sub := store.Subscription{ID: "sub-big", Sink: "https://hooks.example/big", Types: []string{"dev.chainctl.registry.pull.v1"},
		Repositories: []string{"*"}, Creator: "alice", CreatorIncarnation: "i1", Created: t0}
	// every: a subscription every event matches, so that the deliveries
	// fill a whole multi-row insert and part of another.
	every := sub
	every.ID = "sub-every"
	for _, sub := range []store.Subscription{sub, every} {
		if err := s.PutSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	for _, withDeliveries := range []bool{false, true} {
		var batch []store.Event
		var subscribed []string
		for i := range 2*128 + 5 {
			e := store.Event{ID: fmt.Sprintf("big-%t-%03d", withDeliveries, i), Type: "dev.chainctl.registry.pull.v1", Source: "https://r",
				Subject: "acme/app:v1", Time: t0.Add(time.Duration(i) * time.Millisecond), Repository: "acme/app", Actor: "anonymous",
				Data: fmt.Appendf(nil, `{"i":%d}`, i)}
			if withDeliveries {
				e.Subscriptions = []string{every.ID}
			}
			if withDeliveries && i%3 == 0 {
				e.Subscriptions = append(e.Subscriptions, sub.ID)
				subscribed = append(subscribed, e.ID)
			}
			batch = append(batch, e)
		}
		before, err := s.EventsAfter(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AppendEvents(ctx, batch); err != nil {
			t.Fatalf("AppendEvents(%d events) = %v", len(batch), err)
		}
		all, err := s.EventsAfter(ctx, 0, 10000)
		if err != nil || len(all) != len(before)+len(batch) {
			t.Fatalf("EventsAfter = %d events, %v, want %d", len(all), err, len(before)+len(batch))
		}
		for i, e := range all[len(before):] {
			if e.ID != batch[i].ID || string(e.Data) != string(batch[i].Data) {
				t.Fatalf("event %d = %s %s, want %s %s", i, e.ID, e.Data, batch[i].ID, batch[i].Data)
			}
		}
		got, err := s.ClaimDeliveries(ctx, sub.ID, t0.Add(time.Hour), time.Minute, 10000)
		if err != nil || len(got) != len(subscribed) {
			t.Fatalf("ClaimDeliveries = %d, %v, want %d", len(got), err, len(subscribed))
		}
		for i, d := range got {
			if d.Event.ID != subscribed[i] || string(d.Event.Data) != fmt.Sprintf(`{"i":%d}`, 3*i) {
				t.Fatalf("delivery %d is of %s %s, want %s", i, d.Event.ID, d.Event.Data, subscribed[i])
			}
		}
		got, err = s.ClaimDeliveries(ctx, every.ID, t0.Add(time.Hour), time.Minute, 10000)
		want := 0
		if withDeliveries {
			want = len(batch)
		}
		if err != nil || len(got) != want {
			t.Fatalf("ClaimDeliveries(%s) = %d, %v, want %d", every.ID, len(got), err, want)
		}
		for i, d := range got {
			if d.Event.ID != batch[i].ID {
				t.Fatalf("delivery %d of %s is of %s, want %s", i, every.ID, d.Event.ID, batch[i].ID)
			}
		}
	}
}
