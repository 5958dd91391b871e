package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/chainctl/chainctl/internal/store"
)

// packColumns are event_packs' columns in the order packArgs gives them.
const packColumns = `seq_first, seq_last, first_id, count, type, source, repository, failed, actor, error_code, time_first, time_last, events`

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
// packs a statement, with seqs from one block in their order.
func (s *Store) insertPacks(ctx context.Context, tx Conn, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	seqs, err := s.d.AllocSeqs(ctx, tx, len(events))
	if err != nil {
		return err
	}
	var evs []packedEvent
	for chunk := range slices.Chunk(groupPacks(events, seqs), packsPerInsert) {
		args := make([]any, 0, len(chunk)*packParams)
		for _, g := range chunk {
			evs = evs[:0]
			for _, i := range g.events {
				e := events[i]
				evs = append(evs, packedEvent{Seq: seqs[i], Time: nanos(e.Time), ID: e.ID, Subject: e.Subject, Data: e.Data})
			}
			k := g.key
			args = append(args, g.seqFirst, g.seqLast, evs[0].ID, len(evs), k.typ, k.source, k.repository,
				boolInt(k.failed), k.actor, k.errorCode, g.timeFirst, g.timeLast, appendPack(nil, g.seqFirst, g.timeFirst, evs))
		}
		var insert runner = text{tx, insertPacksText(s.d, len(chunk))}
		if len(chunk) == packsPerInsert {
			insert = s.run(ctx, tx, insertPackChunk)
		}
		if _, err := insert.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("%d event packs: %w", len(chunk), s.eventInsertError(err))
		}
	}
	return nil
}

// packsPerInsert bounds the rows of one insert of packs, packParams
// parameters each.
const (
	packsPerInsert = 64
	packParams     = 13
)

// insertPacksText is the insert of rows packs in one statement, in d's
// placeholders. A full chunk's is prepared once (statements).
func insertPacksText(d *Dialect, rows int) string {
	return cmp.Or(d.InsertAll, "INSERT") + ` INTO event_packs (` + packColumns + `) VALUES ` + valueRows(d, rows, packParams)
}

// rewritePack keeps the events of p that keep says to, rewriting its row,
// or deleting it when none is left, and returns how many it dropped.
func (s *Store) rewritePack(ctx context.Context, tx Conn, p *packRow, keep func(packedEvent) bool) (int, error) {
	var kept []packedEvent
	dropped := 0
	err := decodePack(p.events, p.seqFirst, p.timeFirst, func(e packedEvent) error {
		if keep(e) {
			kept = append(kept, e)
		} else {
			dropped++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("event pack %d: %w", p.seqFirst, err)
	}
	switch {
	case dropped == 0:
		return 0, nil
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
		return 0, fmt.Errorf("rewrite event pack %d: %w", p.seqFirst, err)
	}
	return dropped, nil
}

// unpack moves the events of seqs that are in packs out of them, into rows
// of their own with the same seq and id, in tx: a delivery refers to its
// event's row. Seqs of rows, or of no event, are left alone.
func (s *Store) unpack(ctx context.Context, tx Conn, seqs []int64) error {
	rows := map[int64]bool{}
	for chunk := range slices.Chunk(seqs, requeuePerStatement) {
		args := make([]any, len(chunk))
		for i, seq := range chunk {
			args[i] = seq
		}
		present, err := collect(ctx, text{tx, `SELECT seq FROM events WHERE seq IN (` + params(s.d, 1, len(chunk)) + `)`},
			func(r scanner) (int64, error) { var v int64; return v, r.Scan(&v) }, args...)
		if err != nil {
			return err
		}
		for _, seq := range present {
			rows[seq] = true
		}
	}
	// The packs that may hold each other seq, each read once, and what
	// moves out of each.
	packs := map[int64]*packRow{}
	moving := map[int64]map[int64]bool{} // pack's seq_first -> seqs
	for _, seq := range seqs {
		if rows[seq] {
			continue
		}
		found, err := collect(ctx, text{tx, packSelect + ` WHERE seq_first <= ` + s.param(1) + ` AND seq_first >= ` + s.param(2) +
			` AND seq_last >= ` + s.param(3)}, scanPack, seq, seq-packMaxSeqSpan, seq)
		if err != nil {
			return err
		}
		for i := range found {
			p := &found[i]
			if packs[p.seqFirst] == nil {
				packs[p.seqFirst] = p
			}
			if moving[p.seqFirst] == nil {
				moving[p.seqFirst] = map[int64]bool{}
			}
			moving[p.seqFirst][seq] = true
		}
	}
	insert := `INSERT INTO events (seq, id, type, source, subject, time, repository, failed, actor, error_code, data)` + s.d.OverrideSeq +
		` VALUES (` + params(s.d, 1, 11) + `)`
	for first, p := range packs {
		move := moving[first]
		var moved []store.Event
		if err := p.expand(func(e store.Event) error {
			if move[e.Seq] {
				moved = append(moved, e)
			}
			return nil
		}); err != nil {
			return err
		}
		if len(moved) == 0 {
			continue // the seq was in another pack of the batch
		}
		for _, e := range moved {
			if _, err := tx.ExecContext(ctx, insert, append([]any{e.Seq}, eventArgs(e)...)...); err != nil {
				return fmt.Errorf("move event %d out of its pack: %w", e.Seq, err)
			}
		}
		if _, err := s.rewritePack(ctx, tx, p, func(e packedEvent) bool { return !move[e.Seq] }); err != nil {
			return err
		}
	}
	return nil
}
