package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// Delivery states in the deliveries table.
const (
	deliveryPending   = 0
	deliveryDelivered = 1
	deliveryFailed    = 2
)

// PutSubscription implements store.Subscriptions.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	if sub.ID == "" || sub.Sink == "" || sub.Creator == "" {
		return errors.New("put subscription: empty id, sink or creator")
	}
	created := sub.Created
	if created.IsZero() {
		created = time.Now()
	}
	types, err := encodeJSON(sub.Types, 1)
	if err != nil {
		return err
	}
	repos, err := encodeJSON(sub.Repositories, 1)
	if err != nil {
		return err
	}
	err = s.versioned(ctx, putSubscription, bumpSubscriptionsVersion, store.ErrExists, nil, sub.ID, sub.Sink, types, repos,
		sub.Description, sub.Creator, sub.CreatorIncarnation, nanos(created))
	if err != nil {
		return fmt.Errorf("put subscription %s: %w", sub.ID, err)
	}
	return nil
}

// GetSubscription implements store.Subscriptions.
func (s *Store) GetSubscription(ctx context.Context, id string) (*store.Subscription, error) {
	sub, err := scanSubscription(s.run(ctx, nil, getSubscription).QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("get subscription %s: %w", id, notFound(err))
	}
	return &sub, nil
}

// ListSubscriptions implements store.Subscriptions.
func (s *Store) ListSubscriptions(ctx context.Context) ([]store.Subscription, error) {
	out, err := collect(ctx, s.run(ctx, nil, listSubscriptions), scanSubscription)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription implements store.Subscriptions.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	err := s.versioned(ctx, deleteSubscription, bumpSubscriptionsVersion, store.ErrNotFound, func(tx Conn) error {
		_, err := s.run(ctx, tx, deleteSubscriptionDeliveries).ExecContext(ctx, id)
		return err
	}, id)
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	return nil
}

// DisableSubscription implements store.Subscriptions.
func (s *Store) DisableSubscription(ctx context.Context, id string, at time.Time, reason string) error {
	err := s.versioned(ctx, disableSubscription, bumpSubscriptionsVersion, store.ErrNotFound, nil, id, nanos(at), reason)
	if err != nil {
		return fmt.Errorf("disable subscription %s: %w", id, err)
	}
	return nil
}

// SubscriptionsVersion implements store.Subscriptions.
func (s *Store) SubscriptionsVersion(ctx context.Context) (int64, error) {
	v, err := s.version(ctx, subscriptionsVersion)
	if err != nil {
		return 0, fmt.Errorf("subscriptions version: %w", err)
	}
	return v, nil
}

// SubscriptionHealth implements store.Subscriptions.
func (s *Store) SubscriptionHealth(ctx context.Context, id string) (store.SubscriptionHealth, error) {
	var h store.SubscriptionHealth
	counts, err := collect(ctx, s.run(ctx, nil, deliveryCounts), func(r scanner) ([2]int64, error) {
		var c [2]int64
		err := r.Scan(&c[0], &c[1])
		return c, err
	}, id)
	if err != nil {
		return h, fmt.Errorf("health of subscription %s: %w", id, err)
	}
	for _, c := range counts {
		switch c[0] {
		case deliveryPending:
			h.Pending = c[1]
		case deliveryFailed:
			h.Failed = c[1]
		}
	}
	var success, errorAt int64
	switch err := s.run(ctx, nil, deliveryOutcomes).QueryRowContext(ctx, id).Scan(&success, &h.LastError, &errorAt); {
	case errors.Is(err, sql.ErrNoRows): // no such subscription: nothing to say
	case err != nil:
		return h, fmt.Errorf("health of subscription %s: %w", id, err)
	}
	h.LastSuccess, h.LastErrorAt = optionalTime(success), optionalTime(errorAt)
	return h, nil
}

// ClaimDeliveries implements store.Subscriptions: the due rows are read
// and leased in one transaction; on PostgreSQL, rows another worker holds
// are skipped (Dialect.SkipLocked).
func (s *Store) ClaimDeliveries(ctx context.Context, subscription string, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.inTx(ctx, func(tx Conn) error {
		var err error
		out, err = collect(ctx, s.run(ctx, tx, dueDeliveries), func(r scanner) (store.Delivery, error) {
			d := store.Delivery{Subscription: subscription}
			var at, row int64
			var failed int
			e := &d.Event
			var queued int64
			err := r.Scan(&e.Seq, &d.Attempts, &queued, &row, &e.ID, &e.Type, &e.Source, &e.Subject, &at, &e.Repository, &failed, &e.Actor, &e.ErrorCode, &e.Data)
			e.Time, e.Failed, d.Queued = fromNanos(at), failed != 0, optionalTime(queued)
			if row == 0 {
				e.ID = "" // not a row: read from its pack below
			}
			return d, err
		}, subscription, nanos(now), limit)
		if err != nil {
			return err
		}
		if out, err = s.fillDeliveries(ctx, tx, subscription, out); err != nil || len(out) == 0 {
			return err
		}
		// One statement leases the batch.
		args := []any{nanos(now.Add(lease)), subscription}
		for _, d := range out {
			args = append(args, d.Event.Seq)
		}
		q := "UPDATE deliveries SET lease_until = " + s.param(1) + " WHERE subscription_id = " + s.param(2) +
			" AND event_seq IN (" + params(s.d, 3, len(out)) + ")"
		_, err = tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of %s: %w", subscription, err)
	}
	return out, nil
}

// FinishDeliveries implements store.Subscriptions.
func (s *Store) FinishDeliveries(ctx context.Context, subscription string, done []store.FinishedDelivery) error {
	if len(done) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx Conn) error {
		// The batch's newest success and newest error go on the
		// subscription's row too, read by SubscriptionHealth.
		var success, errorAt int64
		var lastError string
		finish := s.run(ctx, tx, finishDelivery)
		for _, f := range done {
			o := f.Outcome
			state, next := deliveryPending, nanos(o.Retry)
			switch {
			case o.Delivered:
				state, next = deliveryDelivered, 0
			case o.Failed:
				state, next = deliveryFailed, 0
			}
			at := o.At
			if at.IsZero() {
				at = time.Now()
			}
			if _, err := finish.ExecContext(ctx, subscription, f.Seq, state, next, o.Status, o.Error, nanos(at)); err != nil {
				return err
			}
			switch t := nanos(at); {
			case o.Delivered:
				success = max(success, t)
			case o.Error != "" && t >= errorAt:
				lastError, errorAt = o.Error, t
			}
		}
		if success == 0 && errorAt == 0 {
			return nil
		}
		_, err := s.run(ctx, tx, recordDeliveryOutcomes).ExecContext(ctx, subscription, success, lastError, errorAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish %d deliveries to %s: %w", len(done), subscription, err)
	}
	return nil
}

// scanSubscription scans a row of QGetSubscription's columns.
func scanSubscription(r scanner) (store.Subscription, error) {
	var sub store.Subscription
	var types, repos string
	var created, disabled int64
	err := r.Scan(&sub.ID, &sub.Sink, &types, &repos, &sub.Description, &sub.Creator, &sub.CreatorIncarnation,
		&created, &disabled, &sub.DisabledReason)
	if err != nil {
		return store.Subscription{}, err
	}
	if err := decodeJSON(types, &sub.Types); err != nil {
		return store.Subscription{}, fmt.Errorf("types of subscription %s: %w", sub.ID, err)
	}
	if err := decodeJSON(repos, &sub.Repositories); err != nil {
		return store.Subscription{}, fmt.Errorf("repositories of subscription %s: %w", sub.ID, err)
	}
	sub.Created = fromNanos(created)
	if disabled != 0 {
		sub.Disabled = fromNanos(disabled)
	}
	return sub, nil
}

// fillDeliveries reads the events of ds that are not rows from their
// packs, and drops (and deletes) the deliveries whose event is gone.
func (s *Store) fillDeliveries(ctx context.Context, tx Conn, subscription string, ds []store.Delivery) ([]store.Delivery, error) {
	found, err := s.fromPacks(ctx, tx, len(ds), func(i int) (int64, bool) { return ds[i].Event.Seq, ds[i].Event.ID == "" })
	if err != nil || found == nil {
		return ds, err
	}
	out := ds[:0]
	var orphans []int64
	for _, d := range ds {
		if d.Event.ID == "" {
			e, ok := found[d.Event.Seq]
			if !ok {
				orphans = append(orphans, d.Event.Seq)
				continue
			}
			d.Event = e
		}
		out = append(out, d)
	}
	if len(orphans) > 0 {
		if err := s.deleteOrphans(ctx, tx, subscription, orphans); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// deleteOrphans deletes the deliveries of subscription to seqs, whose
// events are no longer in the log.
func (s *Store) deleteOrphans(ctx context.Context, tx Conn, subscription string, seqs []int64) error {
	args := []any{subscription}
	for _, seq := range seqs {
		args = append(args, seq)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE subscription_id = `+s.param(1)+` AND event_seq IN (`+params(s.d, 2, len(seqs))+`)`, args...)
	return err
}
