package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// AppendEvents implements store.Events: one transaction for the batch.
// Pulls and failures go into packs (packs.go) when they have company, with
// their deliveries; the rest into rows. A batch's packed events take their
// seqs before its rows: the log's order within a batch, which the event
// log's readers break by time anyway.
func (s *Store) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		if err := checkEvent(e); err != nil {
			return err
		}
	}
	packs, rows := splitPacks(events)
	err := s.inTx(ctx, func(tx Conn) error {
		deliveries, err := s.insertPacks(ctx, tx, packs, nil)
		if err != nil {
			return err
		}
		// The rows in multi-row inserts, eventsPerInsert a statement. The
		// seqs of events with subscriptions come back for their
		// deliveries, which go in multi-row inserts too, once the batch's
		// events are in, so that they fill whole inserts (prepared once)
		// whatever the events do.
		for chunk := range slices.Chunk(rows, eventsPerInsert) {
			if deliveries, err = s.insertEvents(ctx, tx, chunk, deliveries); err != nil {
				return err
			}
		}
		return s.insertDeliveries(ctx, tx, deliveries)
	})
	if err != nil {
		return fmt.Errorf("append %d events: %w", len(events), err)
	}
	return nil
}

// eventsPerInsert bounds the rows of one multi-row insert: eventParams
// parameters each, well within SQLite's 32766 and PostgreSQL's 65535.
const eventsPerInsert = 128

// insertEventsText is the insert of rows events in one statement, in d's
// placeholders, each row beginning with its seq when withSeq is set. A
// full chunk's two forms are prepared once (statements); shorter ones are
// written per batch.
func insertEventsText(d *Dialect, rows int, withSeq bool) string {
	var q strings.Builder
	q.WriteString(cmp.Or(d.InsertAll, "INSERT"))
	cols := eventParams
	if withSeq {
		q.WriteString(` INTO events (seq, id, type, source, subject, time, repository, failed, actor, error_code, data)`)
		q.WriteString(d.OverrideSeq)
		cols++
	} else {
		q.WriteString(` INTO events (id, type, source, subject, time, repository, failed, actor, error_code, data)`)
	}
	q.WriteString(` VALUES `)
	q.WriteString(valueRows(d, rows, cols))
	return q.String()
}

// eventParams is the number of parameters of an event row, its seq aside.
const eventParams = 10

// eventArgs are the values of e's row but its seq, in insertEventsText's
// order.
func eventArgs(e store.Event) []any {
	return []any{e.ID, e.Type, e.Source, e.Subject, nanos(e.Time), e.Repository, boolInt(e.Failed), e.Actor, e.ErrorCode, e.Data}
}

// deliveryRow is a new delivery: subscription, event seq, next attempt
// and updated, in insertDeliveriesText's order.
type deliveryRow [4]any

// insertEvents inserts events in one statement and appends to deliveries
// the deliveries of those with subscriptions. Events with deliveries take
// their seqs from a block (Dialect.AllocSeqs) so that their deliveries can
// name them: cheaper than an insert that returns every row's seq.
func (s *Store) insertEvents(ctx context.Context, tx Conn, events []store.Event, deliveries []deliveryRow) ([]deliveryRow, error) {
	subscribed := 0
	for _, e := range events {
		subscribed += len(e.Subscriptions)
	}
	var seqs []int64
	if subscribed > 0 {
		var err error
		if seqs, err = s.d.AllocSeqs(ctx, tx, len(events)); err != nil {
			return nil, err
		}
	}
	args := make([]any, 0, len(events)*(eventParams+1))
	for i, e := range events {
		if seqs != nil {
			args = append(args, seqs[i])
			for _, sub := range e.Subscriptions {
				deliveries = append(deliveries, deliveryRow{sub, seqs[i], nanos(e.Time), nanos(e.Time)})
			}
		}
		args = append(args, eventArgs(e)...)
	}
	var insert runner = text{tx, insertEventsText(s.d, len(events), seqs != nil)}
	switch {
	case len(events) < eventsPerInsert:
	case seqs != nil:
		insert = s.run(ctx, tx, insertEventChunkSeq)
	default:
		insert = s.run(ctx, tx, insertEventChunk)
	}
	_, err := insert.ExecContext(ctx, args...)
	return deliveries, s.eventInsertError(err)
}

// insertDeliveries inserts rows, deliveriesPerInsert a statement.
func (s *Store) insertDeliveries(ctx context.Context, tx Conn, rows []deliveryRow) error {
	for chunk := range slices.Chunk(rows, deliveriesPerInsert) {
		args := make([]any, 0, len(chunk)*len(deliveryRow{}))
		for _, r := range chunk {
			args = append(args, r[:]...)
		}
		var q runner = text{tx, insertDeliveriesText(s.d, len(chunk))}
		if len(chunk) == deliveriesPerInsert {
			q = s.run(ctx, tx, insertDeliveryChunk)
		}
		if _, err := q.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
	}
	return nil
}

// deliveriesPerInsert bounds the rows of one insert of deliveries.
const deliveriesPerInsert = 256

// insertDeliveriesText is the insert of rows new deliveries in one
// statement, in d's placeholders. A full chunk's is prepared once
// (statements), shorter ones are written per batch.
func insertDeliveriesText(d *Dialect, rows int) string {
	return `INSERT INTO deliveries (subscription_id, event_seq, next_attempt, updated) VALUES ` + valueRows(d, rows, 4)
}

// eventInsertError maps a duplicate id to store.ErrExists.
func (s *Store) eventInsertError(err error) error {
	if err != nil && s.d.UniqueViolation != nil && s.d.UniqueViolation(err) {
		return fmt.Errorf("an event id already in the log: %w", store.ErrExists)
	}
	return err
}

// param is the nth parameter in the dialect's numbered form.
func (s *Store) param(n int) string { return param(s.d, n) }

func param(d *Dialect, n int) string {
	if d.NumberedParam != nil {
		return d.NumberedParam(n)
	}
	return "$" + strconv.Itoa(n)
}

// params is n parameters in d's numbered form, from first on, separated
// by commas: an IN list, or one row of a VALUES list.
func params(d *Dialect, first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(param(d, first+i))
	}
	return b.String()
}

// valueRows is the VALUES list of rows rows of cols parameters each,
// numbered from 1: "($1,$2),($3,$4)".
func valueRows(d *Dialect, rows, cols int) string {
	var b strings.Builder
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(" + params(d, i*cols+1, cols) + ")")
	}
	return b.String()
}

// checkEvent refuses an event without what every row needs.
func checkEvent(e store.Event) error {
	if e.ID == "" || e.Type == "" || e.Repository == "" || e.Time.IsZero() || len(e.Data) == 0 {
		return errors.New("append event: empty id, type, repository, time or data")
	}
	return nil
}

// appendEvent inserts e in tx.
func (s *Store) appendEvent(ctx context.Context, tx Conn, e store.Event) error {
	if err := checkEvent(e); err != nil {
		return err
	}
	args := eventArgs(e)
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

// EventsAfter implements store.Events: the rows and packs after after,
// merged by seq.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	out, err := collect(ctx, s.run(ctx, nil, eventsAfter), scanEvent, after, limit)
	if err != nil || limit <= 0 {
		return out, wrapErr(err, "events after %d", after)
	}
	top := &topEvents{limit: limit, cmp: func(a, b store.Event) int { return cmp.Compare(a.Seq, b.Seq) }}
	for _, e := range out {
		top.add(e)
	}
	pw := &where{s: s}
	pw.add("seq_first > " + pw.arg(after-packMaxSeqSpan))
	pw.add("seq_last > " + pw.arg(after))
	err = s.scanPacks(ctx, s.r, pw, lowestSeqPack, limit, func(p *packRow) (bool, error) {
		if worst, ok := top.bound(); ok && p.seqFirst > worst.Seq {
			return false, nil
		}
		return true, p.expand(func(e store.Event) error {
			if e.Seq > after {
				top.add(e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return append([]store.Event{}, top.sorted()...), nil
}

// wrapErr wraps a non-nil err with what failed.
func wrapErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// PurgeEvents implements store.Events: the rows older than before, the
// packs that end before it, the older events of those that straddle it,
// and all their deliveries, in one transaction.
func (s *Store) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	cut := nanos(before)
	err := s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM events WHERE time < `+s.param(1)+`)`, cut); err != nil {
			return err
		}
		n, err := affected(s.run(ctx, tx, purgeEvents).ExecContext(ctx, cut))
		if err != nil {
			return err
		}
		// The deliveries of packed events, from the packs that have any.
		delivered, err := collect(ctx, text{tx, packSelect + ` WHERE time_last < ` + s.param(1) + ` AND delivered = 1`}, scanPack, cut)
		if err != nil {
			return err
		}
		var gone []int64
		for i := range delivered {
			if err := delivered[i].expand(func(e store.Event) error { gone = append(gone, e.Seq); return nil }); err != nil {
				return err
			}
		}
		var packed int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(sum(count), 0) FROM event_packs WHERE time_last < `+s.param(1),
			cut).Scan(&packed); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_packs WHERE time_last < `+s.param(1), cut); err != nil {
			return err
		}
		straddling, err := collect(ctx, text{tx, packSelect + ` WHERE time_first < ` + s.param(1) + ` AND time_last >= ` + s.param(2)},
			scanPack, cut, cut)
		if err != nil {
			return err
		}
		for i := range straddling {
			dropped, err := s.rewritePack(ctx, tx, &straddling[i], func(e packedEvent) bool { return e.Time >= cut })
			if err != nil {
				return err
			}
			packed += int64(len(dropped))
			gone = append(gone, dropped...)
		}
		if err := s.deleteDeliveries(ctx, tx, gone); err != nil {
			return err
		}
		total = n + packed
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge events: %w", err)
	}
	return total, nil
}

// scanEvent scans a row of QEventsAfter's columns.
func scanEvent(r scanner) (store.Event, error) {
	var e store.Event
	var at int64
	var failed int
	if err := r.Scan(&e.Seq, &e.ID, &e.Type, &e.Source, &e.Subject, &at, &e.Repository, &failed, &e.Actor, &e.ErrorCode, &e.Data); err != nil {
		return store.Event{}, err
	}
	e.Time, e.Failed = fromNanos(at), failed != 0
	return e, nil
}
