package events

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

// SubscriptionStore is what Subscriptions needs of the metadata store: the
// subscriptions and their deliveries, and the event log's lookups that
// redelivery selects events with.
type SubscriptionStore interface {
	store.Subscriptions
	EventRefsSince(ctx context.Context, since time.Time, after store.EventRef, limit int) ([]store.EventRef, error)
	EventRef(ctx context.Context, id string) (store.EventRef, error)
}

// DeliveryView is one delivery of an event to a subscription, as the API
// shows it.
type DeliveryView struct {
	// Event is the event's CloudEvents id, the same in every attempt.
	Event       string `json:"event"`
	Type        string `json:"type"`
	Subject     string `json:"subject"`
	Time        string `json:"time"`
	State       string `json:"state"` // pending, delivered or failed
	Attempts    int    `json:"attempts"`
	LastStatus  int    `json:"last_status,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	NextAttempt string `json:"next_attempt,omitempty"`
	Updated     string `json:"updated"`
	Redelivered string `json:"redelivered,omitempty"`
}

// DeliveryPage is a page of a subscription's deliveries, newest event
// first; Next, when set, is the cursor of the next page.
type DeliveryPage struct {
	Deliveries []DeliveryView `json:"deliveries"`
	Next       string         `json:"next,omitempty"`
}

// Limits of a page of deliveries.
const (
	DefaultDeliveryPage = 50
	MaxDeliveryPage     = 1000
)

// Deliveries returns a page of the deliveries of a subscription the
// caller owns: all, or the failed ones; cursor is a page's Next.
func (s *Subscriptions) Deliveries(ctx context.Context, caller Owner, id string, failedOnly bool, limit int, cursor string) (DeliveryPage, error) {
	if _, err := s.owned(ctx, caller, id); err != nil {
		return DeliveryPage{}, err
	}
	switch {
	case limit == 0:
		limit = DefaultDeliveryPage
	case limit < 0 || limit > MaxDeliveryPage:
		return DeliveryPage{}, refuse(KindInvalid, "limit must be between 1 and %d", MaxDeliveryPage)
	}
	var before int64
	if cursor != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(cursor, "d"), 36, 64)
		if err != nil || !strings.HasPrefix(cursor, "d") || n <= 0 {
			return DeliveryPage{}, refuse(KindInvalid, "cursor %q is not one a page of deliveries gave", cursor)
		}
		before = n
	}
	list, err := s.st.ListDeliveries(ctx, id, store.DeliveryQuery{FailedOnly: failedOnly, Before: before, Limit: limit + 1})
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Deliveries: []DeliveryView{}}
	if len(list) > limit {
		list = list[:limit]
		page.Next = "d" + strconv.FormatInt(list[limit-1].Event.Seq, 36)
	}
	for _, d := range list {
		page.Deliveries = append(page.Deliveries, deliveryView(d))
	}
	return page, nil
}

func deliveryView(d store.DeliveryRecord) DeliveryView {
	v := DeliveryView{Event: d.Event.ID, Type: ShortType(d.Event.Type), Subject: d.Event.Subject, Time: rfc3339(d.Event.Time),
		State: [...]string{"pending", "delivered", "failed"}[d.State], Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, Updated: rfc3339(d.Updated)}
	if !d.NextAttempt.IsZero() {
		v.NextAttempt = rfc3339(d.NextAttempt)
	}
	if !d.Queued.IsZero() {
		v.Redelivered = rfc3339(d.Queued)
	}
	return v
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// RedeliverRequest says which events to deliver to a subscription again:
// one event by id, or those since a time (all the subscription takes, or
// only those whose delivery failed).
type RedeliverRequest struct {
	Event      string `json:"event,omitempty"`
	Since      string `json:"since,omitempty"` // as ParseTime reads it: RFC 3339, a date, or 24h, 7d back from now
	FailedOnly bool   `json:"failed,omitempty"`
}

// RedeliverResult is what a redelivery queued.
type RedeliverResult struct {
	Queued int `json:"queued"`
	// Disabled: the subscription is disabled, so nothing is delivered
	// until it is enabled again.
	Disabled bool `json:"disabled,omitempty"`
}

// redeliverPage is how many events one requeue transaction takes.
const redeliverPage = 1000

// Redeliver queues events again for a subscription the caller owns, with
// their original ids, due now and with fresh retries: a receiver that was
// down catches up. Events the subscription does not take (by type or
// repository) are not sent to it, whatever asks.
func (s *Subscriptions) Redeliver(ctx context.Context, caller Owner, id string, req RedeliverRequest) (RedeliverResult, error) {
	sub, err := s.owned(ctx, caller, id)
	if err != nil {
		return RedeliverResult{}, err
	}
	res := RedeliverResult{Disabled: !sub.Disabled.IsZero()}
	now := s.now()
	m := matcherOf(*sub)
	switch {
	case req.Event != "" && (req.Since != "" || req.FailedOnly):
		return res, refuse(KindInvalid, "name one event, or a time to redeliver events since, not both")
	case req.Event != "":
		ref, err := s.st.EventRef(ctx, req.Event)
		if errors.Is(err, store.ErrNotFound) {
			return res, refuse(KindNotFound, "no event %q in the event log (events are kept for events.retention)", req.Event)
		} else if err != nil {
			return res, err
		}
		if !m.matches(ref.Type, ref.Repository) {
			return res, refuse(KindInvalid, "subscription %s does not take event %s (a %s of %s)", id, ref.ID, ShortType(ref.Type), ref.Repository)
		}
		res.Queued, err = s.st.RequeueDeliveries(ctx, id, []int64{ref.Seq}, now)
		return res, err
	case req.Since == "":
		return res, refuse(KindInvalid, "say what to redeliver: an event id, or a time to redeliver events since")
	}
	since, err := ParseTime(req.Since, now)
	if err != nil {
		return res, err
	}
	if since.After(now) {
		return res, refuse(KindInvalid, "since %s is in the future", req.Since)
	}
	var after store.EventRef // the last event of the page before
	for {
		var refs []store.EventRef
		if req.FailedOnly {
			refs, err = s.st.FailedDeliveries(ctx, id, since, after.Seq, redeliverPage)
		} else {
			refs, err = s.st.EventRefsSince(ctx, since, after, redeliverPage)
		}
		if err != nil || len(refs) == 0 {
			return res, err
		}
		after = refs[len(refs)-1]
		var seqs []int64
		done := false
		for _, r := range refs {
			// Events recorded since the redelivery began have their own
			// deliveries; stopping at them ends the walk on a busy log.
			if done = r.Time.After(now); done {
				break
			}
			if m.matches(r.Type, r.Repository) {
				seqs = append(seqs, r.Seq)
			}
		}
		n, err := s.st.RequeueDeliveries(ctx, id, seqs, now)
		res.Queued += n
		if err != nil || done {
			return res, err
		}
	}
}

// Enable delivers to a disabled subscription the caller owns again (one a
// sink's 410 Gone disabled). Events recorded while it was disabled are
// not queued; Redeliver queues them.
func (s *Subscriptions) Enable(ctx context.Context, caller Owner, id string) (SubscriptionView, error) {
	sub, err := s.owned(ctx, caller, id)
	if err != nil {
		return SubscriptionView{}, err
	}
	if !sub.Disabled.IsZero() {
		if err := s.st.EnableSubscription(ctx, id); err != nil {
			return SubscriptionView{}, err
		}
		if err := s.Refresh(ctx, true); err != nil {
			return SubscriptionView{}, err
		}
		sub.Disabled, sub.DisabledReason = time.Time{}, ""
	}
	return s.view(ctx, *sub)
}

func matcherOf(sub store.Subscription) matcher {
	m := matcher{id: sub.ID, types: sub.Types}
	for _, r := range sub.Repositories {
		m.patterns = append(m.patterns, policy.RepositoryPattern(r))
	}
	return m
}

func (m *matcher) matches(typ, repo string) bool {
	return slices.Contains(m.types, typ) && slices.ContainsFunc(m.patterns, func(p policy.RepositoryPattern) bool { return p.Match(repo) })
}
