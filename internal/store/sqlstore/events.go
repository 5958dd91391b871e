package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// AppendEvents implements store.Events: one transaction for the batch.
func (s *Store) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Runs of events no subscription takes go in multi-row inserts
		// (one statement per eventsPerInsert): a busy registry records
		// thousands of pulls a second. The others need their seq back, one
		// by one, for their deliveries.
		for len(events) > 0 {
			n := 0
			for n < len(events) && n < eventsPerInsert && len(events[n].Subscriptions) == 0 {
				n++
			}
			if n == 0 {
				if err := s.appendEvent(ctx, tx, events[0]); err != nil {
					return err
				}
				events = events[1:]
				continue
			}
			if err := s.insertEvents(ctx, tx, events[:n]); err != nil {
				return err
			}
			events = events[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d events: %w", len(events), err)
	}
	return nil
}

// eventsPerInsert bounds the rows of one multi-row insert: 9 parameters
// each, well within SQLite's 32766 and PostgreSQL's 65535.
const eventsPerInsert = 128

// eventColumns is the column list of an event row.
const eventColumns = `INSERT INTO events (id, type, source, subject, time, repository, failed, actor, data) VALUES `

// insertEvents inserts events, none of which has subscriptions, in one
// statement.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []store.Event) error {
	var q strings.Builder
	q.WriteString(eventColumns)
	args := make([]any, 0, len(events)*9)
	for i, e := range events {
		if err := checkEvent(e); err != nil {
			return err
		}
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		for j := range 9 {
			if j > 0 {
				q.WriteByte(',')
			}
			q.WriteString(s.param(len(args) + j + 1))
		}
		q.WriteByte(')')
		failed := 0
		if e.Failed {
			failed = 1
		}
		args = append(args, e.ID, e.Type, e.Source, e.Subject, nanos(e.Time), e.Repository, failed, e.Actor, e.Data)
	}
	_, err := tx.ExecContext(ctx, q.String(), args...)
	if err != nil && s.d.UniqueViolation != nil && s.d.UniqueViolation(err) {
		return fmt.Errorf("an event id already in the log: %w", store.ErrExists)
	}
	return err
}

// param is the nth parameter in the dialect's numbered form.
func (s *Store) param(n int) string {
	if s.d.NumberedParam != nil {
		return s.d.NumberedParam(n)
	}
	return "$" + strconv.Itoa(n)
}

// checkEvent refuses an event without what every row needs.
func checkEvent(e store.Event) error {
	if e.ID == "" || e.Type == "" || e.Repository == "" || e.Time.IsZero() || len(e.Data) == 0 {
		return errors.New("append event: empty id, type, repository, time or data")
	}
	return nil
}

// appendEvent inserts e in tx.
func (s *Store) appendEvent(ctx context.Context, tx *sql.Tx, e store.Event) error {
	if err := checkEvent(e); err != nil {
		return err
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
