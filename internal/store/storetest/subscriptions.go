package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// testSubscriptions covers the subscriptions and their deliveries:
// deliveries recorded with their event, claimed under a lease, finished,
// summed up, and gone with their subscription or event.
func testSubscriptions(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	subs := []store.Subscription{
		{ID: "sub-b", Sink: "https://hooks.example/b", Types: []string{"dev.chainctl.registry.push.v1"}, Repositories: []string{"acme/*"},
			Description: "builds", Creator: "alice", CreatorIncarnation: "i1", Created: t0},
		{ID: "sub-a", Sink: "https://hooks.example/a", Types: []string{"dev.chainctl.registry.pull.v1"}, Repositories: []string{"*"},
			Creator: "bob", CreatorIncarnation: "i2", Created: t0},
	}
	v0, err := s.SubscriptionsVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		if err := s.PutSubscription(ctx, sub); err != nil {
			t.Fatalf("PutSubscription(%s) = %v", sub.ID, err)
		}
	}
	if err := s.PutSubscription(ctx, subs[0]); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutSubscription twice = %v, want ErrExists", err)
	}
	list, err := s.ListSubscriptions(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "sub-a" || list[1].Description != "builds" || !list[1].Created.Equal(t0) ||
		len(list[1].Repositories) != 1 || list[1].Types[0] != "dev.chainctl.registry.push.v1" {
		t.Fatalf("ListSubscriptions = %+v, %v", list, err)
	}
	if v, _ := s.SubscriptionsVersion(ctx); v == v0 {
		t.Error("SubscriptionsVersion unchanged by puts")
	}

	// Events with deliveries: two for sub-b, one for both.
	ev := func(id string, subs ...string) store.Event {
		return store.Event{ID: id, Type: "dev.chainctl.registry.push.v1", Source: "https://r", Subject: "acme/app:" + id,
			Time: t0, Repository: "acme/app", Actor: "identity:ci", Data: []byte(`{"id":"` + id + `"}`), Subscriptions: subs}
	}
	if err := s.AppendEvents(ctx, []store.Event{ev("e1", "sub-b"), ev("e2", "sub-b", "sub-a"), ev("e3")}); err != nil {
		t.Fatalf("AppendEvents with deliveries = %v", err)
	}
	now := t0.Add(time.Second)
	got, err := s.ClaimDeliveries(ctx, "sub-b", now, time.Minute, 10)
	if err != nil || len(got) != 2 || got[0].Event.ID != "e1" || got[1].Event.ID != "e2" || string(got[0].Event.Data) != `{"id":"e1"}` ||
		got[0].Attempts != 0 || got[0].Subscription != "sub-b" {
		t.Fatalf("ClaimDeliveries(sub-b) = %+v, %v, want e1, e2", got, err)
	}
	// Leased: nobody else gets them until the lease ends.
	if again, err := s.ClaimDeliveries(ctx, "sub-b", now, time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("ClaimDeliveries(sub-b) during the lease = %+v, %v, want none", again, err)
	}
	if h, err := s.SubscriptionHealth(ctx, "sub-b"); err != nil || h.Pending != 2 || h.Failed != 0 || !h.LastSuccess.IsZero() {
		t.Errorf("SubscriptionHealth(sub-b) = %+v, %v, want 2 pending", h, err)
	}
	// e1 delivered; e2 refused, to be tried again in 10 s.
	if err := s.FinishDeliveries(ctx, "sub-b", []store.FinishedDelivery{{Seq: got[0].Event.Seq, Outcome: store.DeliveryOutcome{Delivered: true, Status: 204, At: now}}}); err != nil {
		t.Fatal(err)
	}
	retry := now.Add(10 * time.Second)
	if err := s.FinishDeliveries(ctx, "sub-b", []store.FinishedDelivery{{Seq: got[1].Event.Seq, Outcome: store.DeliveryOutcome{Retry: retry, Status: 500, Error: "500 Internal Server Error", At: now}}}); err != nil {
		t.Fatal(err)
	}
	if early, _ := s.ClaimDeliveries(ctx, "sub-b", retry.Add(-time.Second), time.Minute, 10); len(early) != 0 {
		t.Errorf("a delivery to retry at %v was claimed before it: %+v", retry, early)
	}
	later, err := s.ClaimDeliveries(ctx, "sub-b", retry, time.Minute, 10)
	if err != nil || len(later) != 1 || later[0].Event.ID != "e2" || later[0].Attempts != 1 {
		t.Fatalf("ClaimDeliveries at the retry = %+v, %v, want e2 after 1 attempt", later, err)
	}
	// A lease that runs out hands the delivery to the next worker.
	if relet, err := s.ClaimDeliveries(ctx, "sub-b", retry.Add(2*time.Minute), time.Minute, 10); err != nil || len(relet) != 1 {
		t.Errorf("ClaimDeliveries after the lease ended = %+v, %v, want e2 again", relet, err)
	}
	if err := s.FinishDeliveries(ctx, "sub-b", []store.FinishedDelivery{{Seq: later[0].Event.Seq, Outcome: store.DeliveryOutcome{Failed: true, Status: 500, Error: "gave up", At: retry}}}); err != nil {
		t.Fatal(err)
	}
	h, err := s.SubscriptionHealth(ctx, "sub-b")
	if err != nil || h.Pending != 0 || h.Failed != 1 || !h.LastSuccess.Equal(now) || h.LastError != "gave up" || !h.LastErrorAt.Equal(retry) {
		t.Errorf("SubscriptionHealth(sub-b) = %+v, %v", h, err)
	}
	// Queued again and delivered: the last error stays, with its time,
	// beside the newer success; an older outcome changes neither.
	if n, err := s.RequeueDeliveries(ctx, "sub-b", []int64{later[0].Event.Seq}, retry); err != nil || n != 1 {
		t.Fatalf("RequeueDeliveries = %d, %v", n, err)
	}
	redone := retry.Add(time.Minute)
	if again, err := s.ClaimDeliveries(ctx, "sub-b", redone, time.Minute, 10); err != nil || len(again) != 1 {
		t.Fatalf("ClaimDeliveries after the requeue = %+v, %v", again, err)
	}
	err = s.FinishDeliveries(ctx, "sub-b", []store.FinishedDelivery{
		{Seq: later[0].Event.Seq, Outcome: store.DeliveryOutcome{Delivered: true, Status: 200, At: redone}},
		{Seq: got[0].Event.Seq, Outcome: store.DeliveryOutcome{Retry: redone, Error: "stale", At: now}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err = s.SubscriptionHealth(ctx, "sub-b")
	if err != nil || h.Failed != 0 || !h.LastSuccess.Equal(redone) || h.LastError != "gave up" || !h.LastErrorAt.Equal(retry) {
		t.Errorf("SubscriptionHealth(sub-b) after a redelivery = %+v, %v; want the success at %v and the error of %v", h, err, redone, retry)
	}
	if h, err := s.SubscriptionHealth(ctx, "sub-none"); err != nil || h != (store.SubscriptionHealth{}) {
		t.Errorf("SubscriptionHealth(sub-none) = %+v, %v, want nothing", h, err)
	}

	// Disabled, then deleted with its deliveries; sub-a keeps its own.
	if err := s.DisableSubscription(ctx, "sub-b", retry, "410 Gone"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSubscription(ctx, "sub-b"); got == nil || !got.Disabled.Equal(retry) || got.DisabledReason != "410 Gone" {
		t.Errorf("GetSubscription after disable = %+v", got)
	}
	if err := s.DeleteSubscription(ctx, "sub-b"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "DeleteSubscription twice", s.DeleteSubscription(ctx, "sub-b"))
	_, err = s.GetSubscription(ctx, "sub-b")
	wantNotFound(t, "GetSubscription after delete", err)
	if h, _ := s.SubscriptionHealth(ctx, "sub-b"); h.Failed != 0 || h.Pending != 0 {
		t.Errorf("deliveries of a deleted subscription remain: %+v", h)
	}
	if h, _ := s.SubscriptionHealth(ctx, "sub-a"); h.Pending != 1 {
		t.Errorf("SubscriptionHealth(sub-a) = %+v, want 1 pending", h)
	}
	// Purging the event purges its deliveries.
	if _, err := s.PurgeEvents(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.SubscriptionHealth(ctx, "sub-a"); h.Pending != 0 {
		t.Errorf("SubscriptionHealth(sub-a) after purging its event = %+v, want nothing pending", h)
	}
}
