package events_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

func refusal(err error) events.ErrorKind {
	var r *events.Refusal
	if errors.As(err, &r) {
		return r.Kind
	}
	return 0
}

// A receiver that answered 410 disabled its subscription; enabled again
// and redelivered since before then, it gets every event it missed, each
// with its original id.
func TestRedeliverAfterGone(t *testing.T) {
	f := newDeliveryFixture(t)
	var gone atomic.Bool
	gone.Store(true)
	s := newSink(t, f.iss, func(int) int {
		if gone.Load() {
			return http.StatusGone
		}
		return http.StatusNoContent
	})
	id := f.subscribe(t, s.url())
	start := f.clock.Now()
	f.push(t, 1)
	f.run(t)
	waitUntil(t, "the subscription disabled", func() bool {
		v, err := f.subs.Get(t.Context(), f.owner, id)
		return err == nil && v.Disabled
	})
	if err := f.subs.Refresh(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	f.push(t, 2) // recorded while disabled: no delivery
	gone.Store(false)

	v, err := f.subs.Enable(t.Context(), f.owner, id)
	if err != nil || v.Disabled || v.DisabledReason != "" {
		t.Fatalf("Enable = %+v, %v", v, err)
	}
	res, err := f.subs.Redeliver(t.Context(), f.owner, id, events.RedeliverRequest{Since: start.Add(-time.Second).Format(time.RFC3339Nano)})
	if err != nil || res.Queued != 2 || res.Disabled {
		t.Fatalf("Redeliver = %+v, %v, want 2 queued", res, err)
	}
	waitUntil(t, "both events delivered", func() bool { return len(s.delivered()) == 2 })
	log, _ := f.st.EventsAfter(t.Context(), 0, 10)
	got := s.delivered()
	slices.Sort(got)
	want := []string{log[0].ID, log[1].ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v, want the events' own ids %v", got, want)
	}
	page, err := f.subs.Deliveries(t.Context(), f.owner, id, false, 0, "")
	if err != nil || len(page.Deliveries) != 2 || page.Deliveries[0].Redelivered == "" {
		t.Errorf("Deliveries = %+v, %v, want two, redelivered", page, err)
	}
}

// A redelivered event is retried for events.retry_for from its
// redelivery, not from its own time.
func TestRedeliverRetriesAfresh(t *testing.T) {
	f := newDeliveryFixture(t)
	var up atomic.Bool
	s := newSink(t, f.iss, func(int) int {
		if up.Load() {
			return http.StatusNoContent
		}
		return http.StatusServiceUnavailable
	})
	id := f.subscribe(t, s.url())
	f.push(t, 1)
	f.run(t, events.WithRetryFor(time.Minute))
	waitUntil(t, "the first attempt", func() bool { return health(t, f.st, id).LastError != "" })
	f.clock.Advance(2 * time.Minute)
	waitUntil(t, "the delivery given up", func() bool { return health(t, f.st, id).Failed == 1 })

	log, _ := f.st.EventsAfter(t.Context(), 0, 10)
	res, err := f.subs.Redeliver(t.Context(), f.owner, id, events.RedeliverRequest{Event: log[0].ID})
	if err != nil || res.Queued != 1 {
		t.Fatalf("Redeliver(event) = %+v, %v", res, err)
	}
	n := s.calls.Load()
	waitUntil(t, "the redelivery's first attempt", func() bool { return s.calls.Load() > n })
	// The first attempt's error stays the subscription's last error, so
	// health cannot tell this failure recorded: the delivery's attempts,
	// reset by the redelivery, can.
	waitUntil(t, "its failure recorded", func() bool {
		ds, err := f.st.ListDeliveries(t.Context(), id, store.DeliveryQuery{Limit: 1})
		return err == nil && len(ds) == 1 && ds[0].State == store.DeliveryPending && ds[0].Attempts == 1 && ds[0].LastError != ""
	})
	if h := health(t, f.st, id); h.Failed != 0 {
		t.Fatalf("health = %+v: the redelivery gave up at once, its event being older than retry_for", h)
	}
	up.Store(true)
	f.clock.Advance(5 * time.Second)
	waitUntil(t, "the delivery", func() bool { return len(s.delivered()) == 1 })
	if s.delivered()[0] != log[0].ID {
		t.Errorf("delivered %s, want %s", s.delivered()[0], log[0].ID)
	}
}

func TestDeliveriesPagesAndRefusals(t *testing.T) {
	f := newDeliveryFixture(t)
	s := newSink(t, f.iss, func(int) int { return http.StatusNoContent })
	id := f.subscribe(t, s.url())
	for i := range 3 {
		f.push(t, i+1)
	}
	f.run(t)
	waitUntil(t, "three deliveries", func() bool { return len(s.delivered()) == 3 })
	waitUntil(t, "recorded", func() bool { return health(t, f.st, id).Pending == 0 })
	ctx := t.Context()

	first, err := f.subs.Deliveries(ctx, f.owner, id, false, 2, "")
	if err != nil || len(first.Deliveries) != 2 || first.Next == "" || first.Deliveries[0].State != "delivered" ||
		first.Deliveries[0].Type != "push" || first.Deliveries[0].Attempts != 1 || first.Deliveries[0].Subject != "acme/app:v1" {
		t.Fatalf("Deliveries(limit 2) = %+v, %v", first, err)
	}
	rest, err := f.subs.Deliveries(ctx, f.owner, id, false, 2, first.Next)
	if err != nil || len(rest.Deliveries) != 1 || rest.Next != "" || rest.Deliveries[0].Event == first.Deliveries[1].Event {
		t.Fatalf("Deliveries(next page) = %+v, %v", rest, err)
	}
	if failed, err := f.subs.Deliveries(ctx, f.owner, id, true, 0, ""); err != nil || len(failed.Deliveries) != 0 {
		t.Errorf("Deliveries(failed) = %+v, %v, want none", failed, err)
	}

	stranger := events.Owner{ID: "mallory", Bindings: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{"other/*"}}}}
	log, _ := f.st.EventsAfter(ctx, 0, 10)
	for name, err := range map[string]error{
		"deliveries": func() error { _, err := f.subs.Deliveries(ctx, stranger, id, false, 0, ""); return err }(),
		"redeliver": func() error {
			_, err := f.subs.Redeliver(ctx, stranger, id, events.RedeliverRequest{Event: log[0].ID})
			return err
		}(),
		"enable": func() error { _, err := f.subs.Enable(ctx, stranger, id); return err }(),
	} {
		if refusal(err) != events.KindNotFound {
			t.Errorf("%s by a non-owner = %v, want not found", name, err)
		}
	}
	for name, tt := range map[string]struct {
		req  events.RedeliverRequest
		want events.ErrorKind
	}{
		"nothing":        {events.RedeliverRequest{}, events.KindInvalid},
		"event and time": {events.RedeliverRequest{Event: log[0].ID, Since: "2026-01-01T00:00:00Z"}, events.KindInvalid},
		"bad time":       {events.RedeliverRequest{Since: "yesterday"}, events.KindInvalid},
		"future":         {events.RedeliverRequest{Since: f.clock.Now().Add(time.Hour).Format(time.RFC3339)}, events.KindInvalid},
		"unknown event":  {events.RedeliverRequest{Event: "nope"}, events.KindNotFound},
	} {
		if _, err := f.subs.Redeliver(ctx, f.owner, id, tt.req); refusal(err) != tt.want {
			t.Errorf("Redeliver(%s) = %v, want kind %d", name, err, tt.want)
		}
	}
	if _, err := f.subs.Deliveries(ctx, f.owner, id, false, 0, "garbage"); refusal(err) != events.KindInvalid {
		t.Errorf("Deliveries(bad cursor) = %v, want invalid", err)
	}
	// A pull the subscription (push only) does not take is not sent to it.
	f.rec.Record(events.TypePull, events.Data{Repository: "acme/app", Tag: "v1", Type: events.KindManifest, Method: "GET", When: f.clock.Now()})
	runCtx, cancel := context.WithCancel(t.Context())
	cancel()
	f.rec.Run(runCtx) // done at once: writes what is queued and returns
	log, _ = f.st.EventsAfter(ctx, 0, 10)
	if _, err := f.subs.Redeliver(ctx, f.owner, id, events.RedeliverRequest{Event: log[len(log)-1].ID}); refusal(err) != events.KindInvalid {
		t.Errorf("Redeliver(a pull to a push subscription) = %v, want invalid", err)
	}
}
