package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/chainctl/chainctl/internal/store"
)

// packColumns are event_packs' columns in the order insertPacks gives them.
const packColumns = `seq_first, seq_last, first_id, count, type, source, repository, failed, actor, error_code, time_first, time_last, events, delivered`

// splitPacks divides a batch into the events to pack and the events for
// rows, each in the batch's order. Events in a pack of fewer than
// packMinEvents go to rows: a pack of one or two costs about what their
// rows do, and more to read, and a batch that writes both tables writes
// the last pages of both.
func splitPacks(batch []store.Event) (packed, rows []store.Event) {
	order := make([]int64, len(batch))
	for i := range order {
		order[i] = int64(i)
	}
	inPack := make([]bool, len(batch))
	for _, g := range groupPacks(batch, order) {
		if len(g.events) >= packMinEvents {
			for _, i := range g.events {
				inPack[i] = true
			}
		}
	}
	for i, e := range batch {
		if inPack[i] {
			packed = append(packed, e)
		} else {
			rows = append(rows, e)
		}
	}
	return packed, rows
}

// insertPacks writes events, all packable, in packs in tx, packsPerInsert
// packs a statement, with seqs from one block in their order, and appends
// to deliveries the deliveries of those with subscriptions.
func (s *Store) insertPacks(ctx context.Context, tx Conn, events []store.Event, deliveries []deliveryRow) ([]deliveryRow, error) {
	if len(events) == 0 {
		return deliveries, nil
	}
	seqs, err := s.d.AllocSeqs(ctx, tx, len(events))
	if err != nil {
		return nil, err
	}
	var evs []packedEvent
	for chunk := range slices.Chunk(groupPacks(events, seqs), packsPerInsert) {
		args := make([]any, 0, len(chunk)*packParams)
		for _, g := range chunk {
			evs = evs[:0]
			delivered := false
			for _, i := range g.events {
				e := events[i]
				evs = append(evs, packedEvent{Seq: seqs[i], Time: nanos(e.Time), ID: e.ID, Subject: e.Subject, Data: e.Data})
				for _, sub := range e.Subscriptions {
					deliveries = append(deliveries, deliveryRow{sub, seqs[i], nanos(e.Time), nanos(e.Time)})
					delivered = true
				}
			}
			k := g.key
			args = append(args, g.seqFirst, g.seqLast, evs[0].ID, len(evs), k.typ, k.source, k.repository,
				boolInt(k.failed), k.actor, k.errorCode, g.timeFirst, g.timeLast, appendPack(nil, g.seqFirst, g.timeFirst, evs), boolInt(delivered))
		}
		var insert runner = text{tx, insertPacksText(s.d, len(chunk))}
		if len(chunk) == packsPerInsert {
			insert = s.run(ctx, tx, insertPackChunk)
		}
		if _, err := insert.ExecContext(ctx, args...); err != nil {
			return nil, fmt.Errorf("%d event packs: %w", len(chunk), s.eventInsertError(err))
		}
	}
	return deliveries, nil
}

// packsPerInsert bounds the rows of one insert of packs, packParams
// parameters each.
const (
	packsPerInsert = 64
	packParams     = 14
)

// insertPacksText is the insert of rows packs in one statement, in d's
// placeholders. A full chunk's is prepared once (statements).
func insertPacksText(d *Dialect, rows int) string {
	return cmp.Or(d.InsertAll, "INSERT") + ` INTO event_packs (` + packColumns + `) VALUES ` + valueRows(d, rows, packParams)
}

// rewritePack keeps the events of p that keep says to, rewriting its row,
// or deleting it when none is left, and returns the seqs it dropped.
func (s *Store) rewritePack(ctx context.Context, tx Conn, p *packRow, keep func(packedEvent) bool) ([]int64, error) {
	var kept []packedEvent
	var dropped []int64
	err := decodePack(p.events, p.seqFirst, p.timeFirst, func(e packedEvent) error {
		if keep(e) {
			kept = append(kept, e)
		} else {
			dropped = append(dropped, e.Seq)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("event pack %d: %w", p.seqFirst, err)
	}
	switch {
	case len(dropped) == 0:
		return nil, nil
	case len(kept) == 0:
		_, err = tx.ExecContext(ctx, `DELETE FROM event_packs WHERE seq_first = `+s.param(1), p.seqFirst)
	default:
		first, last := kept[0].Time, kept[0].Time
		for _, e := range kept {
			first, last = min(first, e.Time), max(last, e.Time)
		}
		// Placeholders in the order of their arguments: SQLite's are
		// positional (Dialect.NumberedParam).
		_, err = tx.ExecContext(ctx, `UPDATE event_packs SET count = `+s.param(1)+`, time_first = `+s.param(2)+
			`, time_last = `+s.param(3)+`, events = `+s.param(4)+` WHERE seq_first = `+s.param(5),
			len(kept), first, last, appendPack(nil, p.seqFirst, first, kept), p.seqFirst)
	}
	if err != nil {
		return nil, fmt.Errorf("rewrite event pack %d: %w", p.seqFirst, err)
	}
	return dropped, nil
}

// deleteDeliveries deletes every delivery of the events seqs.
func (s *Store) deleteDeliveries(ctx context.Context, tx Conn, seqs []int64) error {
	for chunk := range slices.Chunk(seqs, requeuePerStatement) {
		args := make([]any, len(chunk))
		for i, seq := range chunk {
			args[i] = seq
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE event_seq IN (`+params(s.d, 1, len(chunk))+`)`, args...); err != nil {
			return fmt.Errorf("deliveries of purged events: %w", err)
		}
	}
	return nil
}
