package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// AppendEvents implements store.Events: one transaction for the batch.
func (s *Store) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if err := s.appendEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d events: %w", len(events), err)
	}
	return nil
}

// appendEvent inserts e in tx.
func (s *Store) appendEvent(ctx context.Context, tx *sql.Tx, e store.Event) error {
	if e.ID == "" || e.Type == "" || e.Repository == "" || e.Time.IsZero() || len(e.Data) == 0 {
		return errors.New("append event: empty id, type, repository, time or data")
	}
	failed := 0
	if e.Failed {
		failed = 1
	}
	args := []any{e.ID, e.Type, e.Source, e.Subject, nanos(e.Time), e.Repository, failed, e.Actor, e.Data}
	var err error
	var seq int64
	if len(e.Subscriptions) == 0 {
		_, err = s.run(ctx, tx, appendEvent).ExecContext(ctx, args...)
	} else {
		err = s.run(ctx, tx, appendEventSeq).QueryRowContext(ctx, args...).Scan(&seq)
	}
	if err != nil && s.d.UniqueViolation != nil && s.d.UniqueViolation(err) {
		return fmt.Errorf("event %s: %w", e.ID, store.ErrExists)
	}
	if err != nil {
		return err
	}
	// Due at once: the delivery workers pick it up on their next pass.
	for _, sub := range e.Subscriptions {
		if _, err := s.run(ctx, tx, insertDelivery).ExecContext(ctx, sub, seq, nanos(e.Time)); err != nil {
			return fmt.Errorf("delivery of event %s to %s: %w", e.ID, sub, err)
		}
	}
	return nil
}

// EventsAfter implements store.Events.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	out, err := collect(ctx, s.run(ctx, nil, eventsAfter), scanEvent, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return out, nil
}

// PurgeEvents implements store.Events.
func (s *Store) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	n, err := affected(s.run(ctx, nil, purgeEvents).ExecContext(ctx, nanos(before)))
	if err != nil {
		return 0, fmt.Errorf("purge events: %w", err)
	}
	return n, nil
}

// scanEvent scans a row of QEventsAfter's columns.
func scanEvent(r scanner) (store.Event, error) {
	var e store.Event
	var at int64
	var failed int
	if err := r.Scan(&e.Seq, &e.ID, &e.Type, &e.Source, &e.Subject, &at, &e.Repository, &failed, &e.Actor, &e.Data); err != nil {
		return store.Event{}, err
	}
	e.Time, e.Failed = fromNanos(at), failed != 0
	return e, nil
}
