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

// insertPacks writes the packed events of batch in tx, a row a pack;
// seqs[i] is batch[i]'s seq.
func (s *Store) insertPacks(ctx context.Context, tx Conn, batch []store.Event, seqs []int64) error {
	var buf []byte
	var evs []packedEvent
	q := cmp.Or(s.d.InsertAll, "INSERT") + ` INTO event_packs (` + packColumns + `) VALUES (` + params(s.d, 1, 13) + `)`
	for _, g := range groupPacks(batch, seqs) {
		evs = evs[:0]
		for _, i := range g.events {
			e := batch[i]
			evs = append(evs, packedEvent{Seq: seqs[i], Time: nanos(e.Time), ID: e.ID, Subject: e.Subject, Data: e.Data})
		}
		buf = appendPack(buf[:0], g.seqFirst, g.timeFirst, evs)
		k := g.key
		if _, err := tx.ExecContext(ctx, q, g.seqFirst, g.seqLast, evs[0].ID, len(evs), k.typ, k.source, k.repository,
			boolInt(k.failed), k.actor, k.errorCode, g.timeFirst, g.timeLast, buf); err != nil {
			return fmt.Errorf("a pack of %d events: %w", len(evs), s.eventInsertError(err))
		}
	}
	return nil
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
