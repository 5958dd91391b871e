package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// testRedelivery covers what `chainctl events deliveries`, `redeliver` and
// `subscriptions enable` stand on: listing a subscription's deliveries,
// finding events by id, time and failed delivery, queueing deliveries
// again, and enabling a disabled subscription.
func testRedelivery(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sub := store.Subscription{ID: "sub-r", Sink: "https://hooks.example/r", Types: []string{"dev.chainctl.registry.push.v1"},
		Repositories: []string{"acme/*"}, Creator: "alice", CreatorIncarnation: "i1", Created: t0}
	if err := s.PutSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	// Six events a minute apart; the first four delivered to sub-r.
	var batch []store.Event
	for i := range 6 {
		e := store.Event{ID: fmt.Sprintf("r-%d", i), Type: "dev.chainctl.registry.push.v1", Source: "https://r", Subject: "acme/app:v1",
			Time: t0.Add(time.Duration(i) * time.Minute), Repository: "acme/app", Actor: "identity:ci", Data: []byte(`{}`)}
		if i < 4 {
			e.Subscriptions = []string{sub.ID}
		}
		batch = append(batch, e)
	}
	if err := s.AppendEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDeliveries(ctx, sub.ID, t0.Add(time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("ClaimDeliveries = %d, %v", len(claimed), err)
	}
	if !claimed[0].Queued.IsZero() {
		t.Errorf("a delivery never queued again has Queued %v", claimed[0].Queued)
	}
	at := t0.Add(time.Hour)
	done := []store.FinishedDelivery{
		{Seq: claimed[0].Event.Seq, Outcome: store.DeliveryOutcome{Delivered: true, Status: 204, At: at}},
		{Seq: claimed[1].Event.Seq, Outcome: store.DeliveryOutcome{Failed: true, Status: 500, Error: "500 Internal Server Error", At: at}},
		{Seq: claimed[2].Event.Seq, Outcome: store.DeliveryOutcome{Failed: true, Status: 410, Error: "410 Gone", At: at}},
		{Seq: claimed[3].Event.Seq, Outcome: store.DeliveryOutcome{Retry: at.Add(time.Minute), Status: 503, Error: "503", At: at}},
	}
	if err := s.FinishDeliveries(ctx, sub.ID, done); err != nil {
		t.Fatal(err)
	}

	// Listed newest first, in pages; failed only.
	list, err := s.ListDeliveries(ctx, sub.ID, store.DeliveryQuery{Limit: 3})
	if err != nil || len(list) != 3 || list[0].Event.ID != "r-3" || list[2].Event.ID != "r-1" {
		t.Fatalf("ListDeliveries = %+v, %v, want r-3, r-2, r-1", list, err)
	}
	if d := list[0]; d.State != store.DeliveryPending || d.Attempts != 1 || d.LastStatus != 503 || !d.NextAttempt.Equal(at.Add(time.Minute)) ||
		d.Event.Subject != "acme/app:v1" || !d.Event.Time.Equal(t0.Add(3*time.Minute)) || d.Event.Actor != "identity:ci" {
		t.Errorf("pending delivery = %+v", d)
	}
	if d := list[1]; d.State != store.DeliveryFailed || d.LastError != "410 Gone" || !d.NextAttempt.IsZero() || !d.Updated.Equal(at) {
		t.Errorf("failed delivery = %+v", d)
	}
	next, err := s.ListDeliveries(ctx, sub.ID, store.DeliveryQuery{Before: list[2].Event.Seq, Limit: 3})
	if err != nil || len(next) != 1 || next[0].Event.ID != "r-0" || next[0].State != store.DeliveryDelivered {
		t.Errorf("ListDeliveries(next page) = %+v, %v, want r-0 delivered", next, err)
	}
	failed, err := s.ListDeliveries(ctx, sub.ID, store.DeliveryQuery{FailedOnly: true, Limit: 10})
	if err != nil || len(failed) != 2 || failed[0].Event.ID != "r-2" || failed[1].Event.ID != "r-1" {
		t.Errorf("ListDeliveries(failed) = %+v, %v, want r-2, r-1", failed, err)
	}
	if other, err := s.ListDeliveries(ctx, "sub-none", store.DeliveryQuery{Limit: 10}); err != nil || len(other) != 0 {
		t.Errorf("ListDeliveries(unknown subscription) = %+v, %v", other, err)
	}

	// Failed deliveries since a time, in pages.
	refs, err := s.FailedDeliveries(ctx, sub.ID, t0.Add(2*time.Minute), 0, 10)
	if err != nil || len(refs) != 1 || refs[0].ID != "r-2" || refs[0].Repository != "acme/app" {
		t.Errorf("FailedDeliveries(since r-2) = %+v, %v, want r-2", refs, err)
	}
	refs, err = s.FailedDeliveries(ctx, sub.ID, t0, 0, 1)
	if err != nil || len(refs) != 1 || refs[0].ID != "r-1" {
		t.Fatalf("FailedDeliveries(page 1) = %+v, %v, want r-1", refs, err)
	}
	if refs, err = s.FailedDeliveries(ctx, sub.ID, t0, refs[0].Seq, 10); err != nil || len(refs) != 1 || refs[0].ID != "r-2" {
		t.Errorf("FailedDeliveries(page 2) = %+v, %v, want r-2", refs, err)
	}

	// Events by time, in pages, and by id.
	page, err := s.EventRefsSince(ctx, t0.Add(4*time.Minute), store.EventRef{}, 1)
	if err != nil || len(page) != 1 || page[0].ID != "r-4" || !page[0].Time.Equal(t0.Add(4*time.Minute)) || page[0].Type != sub.Types[0] {
		t.Fatalf("EventRefsSince(r-4's time) = %+v, %v, want r-4", page, err)
	}
	if page, err = s.EventRefsSince(ctx, t0.Add(4*time.Minute), page[0], 10); err != nil || len(page) != 1 || page[0].ID != "r-5" {
		t.Errorf("EventRefsSince(after r-4) = %+v, %v, want r-5", page, err)
	}
	if ref, err := s.EventRef(ctx, "r-5"); err != nil || ref.ID != "r-5" || ref.Seq == 0 {
		t.Errorf("EventRef(r-5) = %+v, %v", ref, err)
	}
	if _, err := s.EventRef(ctx, "r-none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EventRef(unknown) = %v, want ErrNotFound", err)
	}

	// Requeue: r-0 (delivered), r-2 (failed) reset; r-5 (none) made;
	// a seq that names no event skipped.
	r5, _ := s.EventRef(ctx, "r-5")
	now := t0.Add(2 * time.Hour)
	n, err := s.RequeueDeliveries(ctx, sub.ID, []int64{list[1].Event.Seq, next[0].Event.Seq, r5.Seq, r5.Seq + 1000}, now)
	if err != nil || n != 3 {
		t.Fatalf("RequeueDeliveries = %d, %v, want 3", n, err)
	}
	due, err := s.ClaimDeliveries(ctx, sub.ID, now, time.Minute, 10)
	if err != nil || len(due) != 4 {
		t.Fatalf("ClaimDeliveries after requeue = %+v, %v, want r-0, r-2, r-3, r-5", due, err)
	}
	for _, d := range due {
		requeued := d.Event.ID != "r-3"
		if requeued && (d.Attempts != 0 || !d.Queued.Equal(now)) || !requeued && !d.Queued.IsZero() {
			t.Errorf("delivery of %s: attempts %d, queued %v", d.Event.ID, d.Attempts, d.Queued)
		}
	}
	if h, err := s.SubscriptionHealth(ctx, sub.ID); err != nil || h.Pending != 4 || h.Failed != 1 {
		t.Errorf("health after requeue = %+v, %v, want 4 pending, 1 failed", h, err)
	}
	if rs, _ := s.ListDeliveries(ctx, sub.ID, store.DeliveryQuery{Limit: 1}); len(rs) != 1 || rs[0].Event.ID != "r-5" || rs[0].LastError != "" {
		t.Errorf("requeued delivery = %+v", rs)
	}

	// Enable a disabled subscription.
	v0, _ := s.SubscriptionsVersion(ctx)
	if err := s.DisableSubscription(ctx, sub.ID, now, "410 Gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableSubscription(ctx, sub.ID); err != nil {
		t.Fatalf("EnableSubscription = %v", err)
	}
	got, err := s.GetSubscription(ctx, sub.ID)
	if err != nil || !got.Disabled.IsZero() || got.DisabledReason != "" {
		t.Errorf("after enable: %+v, %v", got, err)
	}
	if v, _ := s.SubscriptionsVersion(ctx); v < v0+2 {
		t.Errorf("SubscriptionsVersion %d after disable and enable, want at least %d", v, v0+2)
	}
	if err := s.EnableSubscription(ctx, "sub-none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EnableSubscription(unknown) = %v, want ErrNotFound", err)
	}
}
