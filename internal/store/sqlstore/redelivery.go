package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// EnableSubscription implements store.Subscriptions.
func (s *Store) EnableSubscription(ctx context.Context, id string) error {
	err := s.versioned(ctx, enableSubscription, bumpSubscriptionsVersion, store.ErrNotFound, nil, id)
	if err != nil {
		return fmt.Errorf("enable subscription %s: %w", id, err)
	}
	return nil
}

// ListDeliveries implements store.Subscriptions.
func (s *Store) ListDeliveries(ctx context.Context, subscription string, q store.DeliveryQuery) ([]store.DeliveryRecord, error) {
	before, failedOnly := q.Before, 0
	if before <= 0 {
		before = math.MaxInt64
	}
	if q.FailedOnly {
		failedOnly = 1
	}
	out, err := collect(ctx, s.run(ctx, nil, listDeliveries), func(r scanner) (store.DeliveryRecord, error) {
		var d store.DeliveryRecord
		e := &d.Event
		var at, next, updated, queued, row int64
		var failed, state int
		err := r.Scan(&e.Seq, &row, &e.ID, &e.Type, &e.Subject, &at, &e.Repository, &failed, &e.Actor,
			&state, &d.Attempts, &next, &d.LastStatus, &d.LastError, &updated, &queued)
		e.Time, e.Failed, d.State = fromNanos(at), failed != 0, store.DeliveryState(state)
		d.Updated, d.Queued = fromNanos(updated), optionalTime(queued)
		if d.State == store.DeliveryPending {
			d.NextAttempt = fromNanos(next)
		}
		if row == 0 {
			e.ID = "" // not a row: read from its pack below
		}
		return d, err
	}, subscription, before, failedOnly, q.Limit)
	var found map[int64]store.Event
	if err == nil {
		found, err = s.fromPacks(ctx, s.r, len(out), func(i int) (int64, bool) { return out[i].Event.Seq, out[i].Event.ID == "" })
	}
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", subscription, err)
	}
	for i := range out {
		if e, ok := found[out[i].Event.Seq]; ok && out[i].Event.ID == "" {
			e.Data = nil // listed without its data, as rows are
			out[i].Event = e
		}
	}
	return out, nil
}

// FailedDeliveries implements store.Subscriptions. A packed event's time
// is checked once it is read from its pack, so a page may come back
// shorter than limit, but empty only at the end.
func (s *Store) FailedDeliveries(ctx context.Context, subscription string, since time.Time, after int64, limit int) ([]store.EventRef, error) {
	for {
		raw, err := collect(ctx, s.run(ctx, nil, failedDeliveries), func(r scanner) (store.EventRef, error) {
			var e store.EventRef
			var at, row int64
			err := r.Scan(&e.Seq, &row, &e.ID, &e.Type, &e.Repository, &at)
			e.Time = fromNanos(at)
			if row == 0 {
				e.ID = "" // not a row: read from its pack below
			}
			return e, err
		}, subscription, after, nanos(since), limit)
		if err != nil {
			return nil, fmt.Errorf("failed deliveries of %s: %w", subscription, err)
		}
		found, err := s.fromPacks(ctx, s.r, len(raw), func(i int) (int64, bool) { return raw[i].Seq, raw[i].ID == "" })
		if err != nil {
			return nil, fmt.Errorf("failed deliveries of %s: %w", subscription, err)
		}
		out := []store.EventRef{}
		for _, r := range raw {
			if r.ID == "" {
				// One gone from the log is left out, as the join leaves
				// out a row that is gone.
				e, ok := found[r.Seq]
				if !ok || e.Time.Before(since) {
					continue
				}
				r = store.EventRef{Seq: e.Seq, ID: e.ID, Type: e.Type, Repository: e.Repository, Time: e.Time}
			}
			out = append(out, r)
		}
		if len(out) > 0 || len(raw) < limit {
			return out, nil
		}
		after = raw[len(raw)-1].Seq
	}
}

// EventRefsSince implements store.Events: the rows and packs after the
// cursor, merged in (time, seq) order.
func (s *Store) EventRefsSince(ctx context.Context, since time.Time, after store.EventRef, limit int) ([]store.EventRef, error) {
	at, seq := nanos(since)-1, int64(0)
	if !after.Time.IsZero() {
		at, seq = nanos(after.Time), after.Seq
	}
	rows, err := collect(ctx, s.run(ctx, nil, eventRefsSince), scanEventRef, nanos(since), at, seq, limit)
	if err != nil || limit <= 0 {
		return rows, wrapErr(err, "events since %v", since)
	}
	top := &topEvents{limit: limit, cmp: oldestFirst}
	for _, r := range rows {
		top.add(store.Event{Seq: r.Seq, ID: r.ID, Type: r.Type, Repository: r.Repository, Time: r.Time})
	}
	pw := &where{s: s}
	pw.add("time_last > " + pw.arg(at))
	err = s.scanPacks(ctx, s.r, pw, oldestPacks, limit, func(p *packRow) (bool, error) {
		if worst, ok := top.bound(); ok && p.timeLast-packMaxSpan > nanos(worst.Time) {
			return false, nil // every event of this pack and the rest is later
		}
		return true, p.expand(func(e store.Event) error {
			t := nanos(e.Time)
			if t >= nanos(since) && (t > at || (t == at && e.Seq > seq)) {
				top.add(e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("events since %v: %w", since, err)
	}
	out := []store.EventRef{}
	for _, e := range top.sorted() {
		out = append(out, store.EventRef{Seq: e.Seq, ID: e.ID, Type: e.Type, Repository: e.Repository, Time: e.Time})
	}
	return out, nil
}

// EventRef implements store.Events: a row by its id, or else a packed
// event from the time its id begins with (events' ids do: 12 hex digits of
// Unix milliseconds), among the few packs that span that millisecond.
func (s *Store) EventRef(ctx context.Context, id string) (store.EventRef, error) {
	e, err := scanEventRef(s.run(ctx, nil, eventRef).QueryRowContext(ctx, id))
	if !errors.Is(err, sql.ErrNoRows) {
		return e, wrapErr(err, "event %s", id)
	}
	ms, ok := idMillis(id)
	if !ok {
		return store.EventRef{}, fmt.Errorf("event %s: %w", id, store.ErrNotFound)
	}
	lo, hi := ms*int64(time.Millisecond), (ms+1)*int64(time.Millisecond)
	pw := &where{s: s}
	pw.add("time_last >= " + pw.arg(lo))
	pw.add("time_last < " + pw.arg(hi+packMaxSpan))
	pw.add("time_first < " + pw.arg(hi))
	var found *store.EventRef
	err = s.scanPacks(ctx, s.r, pw, oldestPacks, packPageSize, func(p *packRow) (bool, error) {
		return found == nil, p.expand(func(e store.Event) error {
			if e.ID == id {
				found = &store.EventRef{Seq: e.Seq, ID: e.ID, Type: e.Type, Repository: e.Repository, Time: e.Time}
			}
			return nil
		})
	})
	switch {
	case err != nil:
		return store.EventRef{}, fmt.Errorf("event %s: %w", id, err)
	case found == nil:
		return store.EventRef{}, fmt.Errorf("event %s: %w", id, store.ErrNotFound)
	}
	return *found, nil
}

// idMillis is the time in Unix milliseconds an event id begins with, if it
// begins with 12 hex digits.
func idMillis(id string) (int64, bool) {
	if len(id) < 12 {
		return 0, false
	}
	ms, err := strconv.ParseUint(id[:12], 16, 64)
	return int64(ms), err == nil
}

func scanEventRef(r scanner) (store.EventRef, error) {
	var e store.EventRef
	var at int64
	err := r.Scan(&e.Seq, &e.ID, &e.Type, &e.Repository, &at)
	e.Time = fromNanos(at)
	return e, err
}

// requeuePerStatement bounds the events of one requeue statement.
const requeuePerStatement = 500

// RequeueDeliveries implements store.Subscriptions: one upsert per chunk
// for the events that are rows, selecting the seqs from events so that
// one purged meanwhile is skipped rather than an error; then one for each
// packed event found in its pack, whose pack is marked delivered.
func (s *Store) RequeueDeliveries(ctx context.Context, subscription string, seqs []int64, now time.Time) (int, error) {
	total := 0
	const upsert = ` ON CONFLICT (subscription_id, event_seq) DO UPDATE SET state = 0, attempts = 0, next_attempt = excluded.next_attempt,
  lease_until = 0, last_status = 0, last_error = '', updated = excluded.updated, queued = excluded.queued`
	err := s.inTx(ctx, func(tx Conn) error {
		total = 0
		rows := map[int64]bool{}
		for chunk := range slices.Chunk(seqs, requeuePerStatement) {
			args := []any{subscription, nanos(now), nanos(now), nanos(now)}
			for _, seq := range chunk {
				args = append(args, seq)
			}
			q := `INSERT INTO deliveries (subscription_id, event_seq, next_attempt, updated, queued)
SELECT ` + params(s.d, 1, 1) + `, seq, ` + params(s.d, 2, 3) + ` FROM events WHERE seq IN (` + params(s.d, 5, len(chunk)) + `)` + upsert +
				` RETURNING event_seq`
			requeued, err := collect(ctx, text{tx, q}, func(r scanner) (int64, error) { var v int64; return v, r.Scan(&v) }, args...)
			if err != nil {
				return err
			}
			for _, seq := range requeued {
				rows[seq] = true
			}
			total += len(requeued)
		}
		var missing []int64
		for _, seq := range seqs {
			if !rows[seq] {
				missing = append(missing, seq)
			}
		}
		found, in, err := s.packedEvents(ctx, tx, missing)
		if err != nil {
			return err
		}
		q := `INSERT INTO deliveries (subscription_id, event_seq, next_attempt, updated, queued) VALUES (` + params(s.d, 1, 5) + `)` + upsert
		marked := map[int64]bool{}
		for _, seq := range missing {
			if _, ok := found[seq]; !ok {
				continue // purged meanwhile
			}
			if _, err := tx.ExecContext(ctx, q, subscription, seq, nanos(now), nanos(now), nanos(now)); err != nil {
				return err
			}
			total++
			if first := in[seq]; !marked[first] {
				marked[first] = true
				if _, err := tx.ExecContext(ctx, `UPDATE event_packs SET delivered = 1 WHERE seq_first = `+s.param(1), first); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("requeue %d deliveries to %s: %w", len(seqs), subscription, err)
	}
	return total, nil
}
