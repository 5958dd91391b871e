package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// packID is an event id as the registry makes them: the event's time in
// Unix milliseconds as 12 hex digits, then 20 more. A store may find a
// packed event by id only from that time.
func packID(at time.Time, n int) string { return fmt.Sprintf("%012x%020x", at.UnixMilli(), n) }

// packLog is a batch the store keeps mostly in packs: pulls of two
// repositories by two actors, some failed, spread over 3.6 seconds (more
// than a pack spans), times not always in order; and among them a
// successful push, which stays a row, and a pull a subscription takes,
// packed with its delivery.
func packLog(t0 time.Time, sub string) []store.Event {
	var out []store.Event
	for i := range 240 {
		repo, actor := "acme/app", "identity:ci"
		if i%3 == 0 {
			repo = "acme/web"
		}
		if i%4 == 0 {
			actor = "anonymous"
		}
		at := t0.Add(time.Duration(i)*15*time.Millisecond - time.Duration(i%5)*7*time.Millisecond)
		e := store.Event{ID: packID(at, i), Type: typePull, Source: "https://r.example", Subject: fmt.Sprintf("%s:v%d", repo, i%2),
			Time: at, Repository: repo, Actor: actor, Data: fmt.Appendf(nil, `{"repository":%q,"i":%d}`, repo, i)}
		if i%7 == 0 {
			e.Failed, e.ErrorCode = true, "MANIFEST_UNKNOWN"
		}
		switch i {
		case 10:
			e.Type = typePush
		case 11:
			e.Subscriptions = []string{sub}
		}
		out = append(out, e)
	}
	return out
}

// sameEvent reports whether got is want as read back (seq aside).
func sameEvent(got, want store.Event) bool {
	return got.ID == want.ID && got.Type == want.Type && got.Source == want.Source && got.Subject == want.Subject &&
		got.Time.Equal(want.Time) && got.Repository == want.Repository && got.Failed == want.Failed &&
		got.Actor == want.Actor && got.ErrorCode == want.ErrorCode && string(got.Data) == string(want.Data)
}

// testEventPacks covers the event log's readers over events a store packs
// many to a row, against what they must return, worked out from the
// batch: every event back once and whole, pages that neither skip nor
// repeat across packs, counts at the edges of a time range, a packed event
// redelivered, and a purge through the middle of a pack.
func testEventPacks(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	sub := store.Subscription{ID: "sub-packs", Sink: "https://hooks.example/p", Types: []string{typePull},
		Repositories: []string{"acme/*"}, Creator: "alice", CreatorIncarnation: "i1", Created: t0}
	if err := s.PutSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	batch := packLog(t0, sub.ID)
	if err := s.AppendEvents(ctx, batch); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	// The same batch again (a retry after a lost answer) adds nothing.
	if err := s.AppendEvents(ctx, batch); !errors.Is(err, store.ErrExists) {
		t.Errorf("AppendEvents of the batch again = %v, want ErrExists", err)
	}

	// Every event back, whole, once, in seq order (a batch's packed events
	// may take their seqs before its rows).
	all, err := s.EventsAfter(ctx, 0, 1000)
	if err != nil || len(all) != len(batch) {
		t.Fatalf("EventsAfter = %d events, %v, want %d", len(all), err, len(batch))
	}
	byID := map[string]store.Event{}
	for _, e := range batch {
		byID[e.ID] = e
	}
	for i, e := range all {
		if want, ok := byID[e.ID]; !ok || !sameEvent(e, want) {
			t.Fatalf("event %d = %+v, want %+v", i, e, want)
		}
		delete(byID, e.ID)
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatalf("seq %d after %d", e.Seq, all[i-1].Seq)
		}
	}
	if page, err := s.EventsAfter(ctx, all[24].Seq, 5); err != nil || !slices.Equal(ids(page), ids(all[25:30])) {
		t.Errorf("EventsAfter(seq of the 25th, 5) = %q, %v, want %q", ids(page), err, ids(all[25:30]))
	}

	newest := slices.Clone(all)
	slices.SortFunc(newest, func(a, b store.Event) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return int(b.Seq - a.Seq)
	})
	// Pages of QueryEvents, filtered and not, against the same filter
	// applied to the whole log.
	since, until := t0.Add(900*time.Millisecond), t0.Add(2700*time.Millisecond)
	filters := []store.EventFilter{
		{},
		{Repositories: []string{"acme/app"}},
		{Repositories: []string{"acme/"}, Actors: []string{"anonymous"}},
		{Subject: "acme/web:v1", Type: typePull},
		{Since: since, Until: until},
		{Outcome: store.Failed, Since: since},
		{Type: typePush},
	}
	for _, f := range filters {
		var want []store.Event
		for _, e := range newest {
			if selects(f, e) {
				want = append(want, e)
			}
		}
		var got []store.Event
		f.Limit = 4
		for range 100 {
			page, err := s.QueryEvents(ctx, f)
			if err != nil {
				t.Fatalf("QueryEvents(%+v) = %v", f, err)
			}
			got = append(got, page...)
			if len(page) < f.Limit {
				break
			}
			last := page[len(page)-1]
			f.Before = store.EventPosition{Time: last.Time, Seq: last.Seq}
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("pages of QueryEvents(%+v) = %q, want %q", f, ids(got), ids(want))
		}

		f.Before, f.Limit = store.EventPosition{}, 0
		sum, err := s.SummarizeEvents(ctx, f)
		if err != nil {
			t.Fatalf("SummarizeEvents(%+v) = %v", f, err)
		}
		byRepo := map[string]int64{}
		for _, e := range want {
			byRepo[e.Repository+" "+e.Type]++
		}
		gotRepo := map[string]int64{}
		for _, c := range sum.Repositories {
			gotRepo[c.Key+" "+c.Type] = c.Count
		}
		if sum.Total != int64(len(want)) || fmt.Sprint(gotRepo) != fmt.Sprint(byRepo) {
			t.Errorf("SummarizeEvents(%+v) = %d, %v; want %d, %v", f, sum.Total, gotRepo, len(want), byRepo)
		}
	}

	// Refs since a time, a page at a time, oldest first.
	oldest := slices.Clone(newest)
	slices.Reverse(oldest)
	var wantRefs, gotRefs []string
	for _, e := range oldest {
		if !e.Time.Before(since) {
			wantRefs = append(wantRefs, e.ID)
		}
	}
	var cursor store.EventRef
	for range 100 {
		page, err := s.EventRefsSince(ctx, since, cursor, 3)
		if err != nil {
			t.Fatalf("EventRefsSince = %v", err)
		}
		for _, r := range page {
			gotRefs = append(gotRefs, r.ID)
		}
		if len(page) < 3 {
			break
		}
		cursor = page[len(page)-1]
	}
	if !slices.Equal(gotRefs, wantRefs) {
		t.Errorf("pages of EventRefsSince = %q, want %q", gotRefs, wantRefs)
	}

	// A packed event by its id, then redelivered: it keeps its seq and id,
	// and is still in the log once.
	// The 38th of the batch: a pull of acme/app by identity:ci, in a pack
	// of dozens.
	var packed store.Event
	for _, e := range all {
		if e.ID == batch[37].ID {
			packed = e
		}
	}
	ref, err := s.EventRef(ctx, packed.ID)
	if err != nil || ref.Seq != packed.Seq || ref.Repository != packed.Repository || !ref.Time.Equal(packed.Time) {
		t.Fatalf("EventRef(%s) = %+v, %v, want seq %d", packed.ID, ref, err, packed.Seq)
	}
	if _, err := s.EventRef(ctx, packID(t0, 999)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EventRef of an unknown id of the log's time = %v, want ErrNotFound", err)
	}
	now := t0.Add(time.Hour)
	if n, err := s.RequeueDeliveries(ctx, sub.ID, []int64{packed.Seq}, now); err != nil || n != 1 {
		t.Fatalf("RequeueDeliveries(a packed event) = %d, %v, want 1", n, err)
	}
	claimed, err := s.ClaimDeliveries(ctx, sub.ID, now, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	// claimedOf is the claimed delivery of the event with id, or nil.
	claimedOf := func(id string) *store.Delivery {
		if i := slices.IndexFunc(claimed, func(d store.Delivery) bool { return d.Event.ID == id }); i >= 0 {
			return &claimed[i]
		}
		return nil
	}
	redelivered := claimedOf(packed.ID)
	if redelivered == nil || redelivered.Event.Seq != packed.Seq || !sameEvent(redelivered.Event, packed) {
		t.Fatalf("deliveries = %+v, want one of %+v", claimed, packed)
	}
	// The subscribed pull, delivered from its pack, whole.
	subscribed := batch[11]
	sd := claimedOf(subscribed.ID)
	if sd == nil || !sameEvent(sd.Event, subscribed) {
		t.Fatalf("deliveries = %+v, want the subscribed pull %+v", claimed, subscribed)
	}
	// Failed, it is listed and found again by time, as a row's would be.
	if err := s.FinishDeliveries(ctx, sub.ID, []store.FinishedDelivery{{Seq: sd.Event.Seq,
		Outcome: store.DeliveryOutcome{Failed: true, Status: 500, Error: "sink down", At: now}}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListDeliveries(ctx, sub.ID, store.DeliveryQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var listed *store.DeliveryRecord
	for i := range list {
		if list[i].Event.Seq == sd.Event.Seq {
			listed = &list[i]
		}
	}
	if listed == nil || listed.Event.ID != subscribed.ID || listed.Event.Subject != subscribed.Subject ||
		!listed.Event.Time.Equal(subscribed.Time) || listed.State != store.DeliveryFailed {
		t.Errorf("ListDeliveries = %+v, want the subscribed pull failed", list)
	}
	if refs, err := s.FailedDeliveries(ctx, sub.ID, t0, 0, 10); err != nil || len(refs) != 1 || refs[0].ID != subscribed.ID {
		t.Errorf("FailedDeliveries since t0 = %+v, %v, want the subscribed pull", refs, err)
	}
	if refs, err := s.FailedDeliveries(ctx, sub.ID, subscribed.Time.Add(time.Nanosecond), 0, 10); err != nil || len(refs) != 0 {
		t.Errorf("FailedDeliveries since after it = %+v, %v, want none", refs, err)
	}
	if again, err := s.EventsAfter(ctx, 0, 1000); err != nil || !slices.Equal(ids(again), ids(all)) {
		t.Errorf("after redelivery, EventsAfter = %q, %v, want %q", ids(again), err, ids(all))
	}
	if sum, err := s.SummarizeEvents(ctx, store.EventFilter{}); err != nil || sum.Total != int64(len(all)) {
		t.Errorf("after redelivery, SummarizeEvents total = %d, %v, want %d", sum.Total, err, len(all))
	}

	// A purge through the middle of a pack removes exactly the older events.
	cut := t0.Add(1234 * time.Millisecond)
	var older int64
	var rest []string
	for _, e := range all {
		if e.Time.Before(cut) {
			older++
		} else {
			rest = append(rest, e.ID)
		}
	}
	if n, err := s.PurgeEvents(ctx, cut); err != nil || n != older {
		t.Errorf("PurgeEvents = %d, %v, want %d", n, err, older)
	}
	if left, err := s.EventsAfter(ctx, 0, 1000); err != nil || !slices.Equal(ids(left), rest) {
		t.Errorf("after purge, EventsAfter = %q, %v, want %q", ids(left), err, rest)
	}
	if n, err := s.PurgeEvents(ctx, cut); err != nil || n != 0 {
		t.Errorf("PurgeEvents again = %d, %v, want 0", n, err)
	}
	// The subscribed and the redelivered pull were older: their deliveries
	// went with them.
	if list, err := s.ListDeliveries(ctx, sub.ID, store.DeliveryQuery{Limit: 100}); err != nil || slices.ContainsFunc(list,
		func(d store.DeliveryRecord) bool { return d.Event.Seq == sd.Event.Seq || d.Event.Seq == packed.Seq }) {
		t.Errorf("after purge, ListDeliveries = %+v, %v, want no delivery of the purged pulls", list, err)
	}
}

// selects reports whether f selects e, as the store must decide it.
func selects(f store.EventFilter, e store.Event) bool {
	if len(f.Repositories) > 0 && !slices.ContainsFunc(f.Repositories, func(r string) bool {
		if base, ok := cutSlash(r); ok {
			return len(e.Repository) > len(base) && e.Repository[:len(base)+1] == base+"/"
		}
		return r == e.Repository
	}) {
		return false
	}
	switch {
	case f.Type != "" && e.Type != f.Type,
		len(f.Actors) > 0 && !slices.Contains(f.Actors, e.Actor),
		f.Subject != "" && e.Subject != f.Subject,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until),
		f.Outcome == store.Succeeded && e.Failed,
		f.Outcome == store.Failed && !e.Failed:
		return false
	}
	return true
}

func cutSlash(r string) (string, bool) {
	if len(r) > 0 && r[len(r)-1] == '/' {
		return r[:len(r)-1], true
	}
	return "", false
}

// testManyPacks appends a batch of more packs than one insert takes (each
// actor's four events a pack): every event back once, whole, in order.
func testManyPacks(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 8, 11, 0, 0, 0, time.UTC)
	var batch []store.Event
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		batch = append(batch, store.Event{ID: packID(at, i), Type: typePull, Source: "https://r", Subject: "acme/app:v1",
			Time: at, Repository: "acme/app", Actor: fmt.Sprintf("identity:node-%03d", i%75), Data: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	before, err := s.EventsAfter(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(ctx, batch); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	all, err := s.EventsAfter(ctx, 0, 10000)
	if err != nil || len(all) != len(before)+len(batch) {
		t.Fatalf("EventsAfter = %d events, %v, want %d", len(all), err, len(before)+len(batch))
	}
	for i, e := range all[len(before):] {
		if !sameEvent(e, batch[i]) {
			t.Fatalf("event %d = %+v, want %+v", i, e, batch[i])
		}
	}
}

// testPackPages fills a page from more packs than one query of a reader
// reads: 75 packs of four events (an actor each) that all span the same
// 900 ms, so that a page of one event in four must read on through every
// pack, newest first, oldest first and by seq.
func testPackPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	var batch []store.Event
	for k := range 4 {
		for a := range 75 {
			at := t0.Add(time.Duration(k)*300*time.Millisecond + time.Duration(a)*time.Microsecond)
			batch = append(batch, store.Event{ID: packID(at, k*75+a), Type: typePull, Source: "https://r",
				Subject: fmt.Sprintf("pages/app:v%d", k), Time: at, Repository: "pages/app",
				Actor: fmt.Sprintf("identity:node-%02d", a), Data: fmt.Appendf(nil, `{"k":%d,"a":%d}`, k, a)})
		}
	}
	if err := s.AppendEvents(ctx, batch); err != nil {
		t.Fatalf("AppendEvents = %v", err)
	}
	all, err := s.EventsAfter(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var mine []store.Event // the batch, as stored, in seq order
	for _, e := range all {
		if e.Repository == "pages/app" {
			mine = append(mine, e)
		}
	}
	if len(mine) != len(batch) {
		t.Fatalf("%d events stored, want %d", len(mine), len(batch))
	}

	// Newest first, the first of each pack's events only (one in four).
	f := store.EventFilter{Repositories: []string{"pages/app"}, Subject: "pages/app:v0", Limit: 30}
	var got []string
	for range 10 {
		page, err := s.QueryEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page)...)
		if len(page) < f.Limit {
			break
		}
		f.Before = store.EventPosition{Time: page[len(page)-1].Time, Seq: page[len(page)-1].Seq}
	}
	var want []string
	for i := 74; i >= 0; i-- {
		want = append(want, batch[i].ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("QueryEvents pages of one event a pack = %q, want %q", got, want)
	}

	// Oldest first since the last 300 ms: again one event a pack.
	since := t0.Add(900 * time.Millisecond)
	refs, err := s.EventRefsSince(ctx, since, store.EventRef{}, 30)
	if err != nil || len(refs) != 30 {
		t.Fatalf("EventRefsSince = %d refs, %v, want 30", len(refs), err)
	}
	for i, r := range refs {
		if r.ID != batch[225+i].ID {
			t.Fatalf("EventRefsSince[%d] = %s, want %s", i, r.ID, batch[225+i].ID)
		}
	}

	// By seq, after the third event of every pack.
	after := mine[224].Seq
	page, err := s.EventsAfter(ctx, after, 30)
	if err != nil || !slices.Equal(ids(page), ids(mine[225:255])) {
		t.Errorf("EventsAfter(a seq inside every pack, 30) = %q, %v, want %q", ids(page), err, ids(mine[225:255]))
	}
}
