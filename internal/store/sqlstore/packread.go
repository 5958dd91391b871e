package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/chainctl/chainctl/internal/store"
)

// The event log's readers run their query on events, then read the packs
// through event_packs' own indexes, expand them, and merge the two in Go.
// A pack is read in pages in an order whose key bounds its events, so that
// a reader stops as soon as no further pack can change its answer: packs
// by time_last (no event of a pack is later, nor more than packMaxSpan
// earlier), or by seq_first (no seq is lower, nor more than
// packMaxSeqSpan higher).

// packSelect is the column list scanPack reads.
const packSelect = `SELECT seq_first, type, source, repository, failed, actor, error_code, time_first, time_last, events FROM event_packs`

// A scan's first query reads up to want/packMinEvents packs, at least
// packPageSize, and each query after it twice as many as the one before,
// up to maxPackPage: few queries when packs are small (each query of a
// prefix sorts the filter's keys again), and not a thousand packs of a
// thousand events read when the first pack fills the page.
const (
	packPageSize = 16
	maxPackPage  = 1024
)

// packRow is a pack as read.
type packRow struct {
	seqFirst            int64
	key                 packKey
	timeFirst, timeLast int64
	events              []byte
}

func scanPack(r scanner) (packRow, error) {
	var p packRow
	var failed int
	err := r.Scan(&p.seqFirst, &p.key.typ, &p.key.source, &p.key.repository, &failed, &p.key.actor, &p.key.errorCode,
		&p.timeFirst, &p.timeLast, &p.events)
	p.key.failed = failed != 0
	return p, err
}

// expand calls fn with each event of p, and stops at its first error.
func (p *packRow) expand(fn func(store.Event) error) error {
	err := decodePack(p.events, p.seqFirst, p.timeFirst, func(pe packedEvent) error {
		return fn(store.Event{
			Seq: pe.Seq, ID: pe.ID, Type: p.key.typ, Source: p.key.source, Subject: pe.Subject, Time: fromNanos(pe.Time),
			Repository: p.key.repository, Failed: p.key.failed, Actor: p.key.actor, ErrorCode: p.key.errorCode, Data: pe.Data,
		})
	})
	if err != nil {
		return fmt.Errorf("event pack %d: %w", p.seqFirst, err)
	}
	return nil
}

// packOrder is an order scanPacks reads packs in.
type packOrder int

const (
	newestPacks   packOrder = iota // time_last, seq_first descending
	oldestPacks                    // time_last, seq_first ascending
	lowestSeqPack                  // seq_first ascending
)

// scanPacks calls visit with each pack w selects, in order, until visit
// says to stop or the packs run out; want is how many events the caller
// is after.
func (s *Store) scanPacks(ctx context.Context, c Conn, w *where, order packOrder, want int, visit func(*packRow) (bool, error)) error {
	size := min(max(want/packMinEvents, packPageSize), maxPackPage)
	orderBy := [...]string{
		newestPacks:   " ORDER BY time_last DESC, seq_first DESC",
		oldestPacks:   " ORDER BY time_last, seq_first",
		lowestSeqPack: " ORDER BY seq_first",
	}[order]
	var last *packRow
	for {
		page := &where{s: s, conds: slices.Clone(w.conds), args: slices.Clone(w.args)}
		if last != nil {
			switch order {
			// Each placeholder its own argument: SQLite's are positional.
			case newestPacks:
				page.add(fmt.Sprintf("(time_last < %s OR (time_last = %s AND seq_first < %s))",
					page.arg(last.timeLast), page.arg(last.timeLast), page.arg(last.seqFirst)))
			case oldestPacks:
				page.add(fmt.Sprintf("(time_last > %s OR (time_last = %s AND seq_first > %s))",
					page.arg(last.timeLast), page.arg(last.timeLast), page.arg(last.seqFirst)))
			case lowestSeqPack:
				page.add("seq_first > " + page.arg(last.seqFirst))
			}
		}
		// The page's keys first, then its rows: when the packs must be
		// sorted (a prefix spans many repositories, each in time order),
		// only keys are, not rows with their events.
		q := packSelect + " WHERE seq_first IN (SELECT seq_first FROM event_packs" + page.String() + orderBy +
			fmt.Sprintf(" LIMIT %d)", size) + orderBy
		packs, err := collect(ctx, text{c, q}, scanPack, page.args...)
		if err != nil {
			return err
		}
		for i := range packs {
			more, err := visit(&packs[i])
			if err != nil || !more {
				return err
			}
		}
		if len(packs) < size {
			return nil
		}
		last = &packs[len(packs)-1]
		size = min(2*size, maxPackPage)
	}
}

// scanPacksIn calls fn with each pack w selects, in no order.
func (s *Store) scanPacksIn(ctx context.Context, c Conn, w *where, fn func(*packRow) error) error {
	return s.scanPacks(ctx, c, w, lowestSeqPack, maxPackPage, func(p *packRow) (bool, error) { return true, fn(p) })
}

// newestFirst orders events as QueryEvents returns them: by time, then
// seq, both descending.
func newestFirst(a, b store.Event) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	return cmp.Compare(b.Seq, a.Seq)
}

// oldestFirst is the reverse of newestFirst.
func oldestFirst(a, b store.Event) int { return newestFirst(b, a) }

// topEvents keeps the first limit events in an order, of those added.
type topEvents struct {
	limit int
	cmp   func(a, b store.Event) int
	evs   []store.Event
	dirty bool
	// worst is the last of limit events kept, once there are that many:
	// an event not before it cannot be among them.
	worst     store.Event
	haveWorst bool
}

func (t *topEvents) add(e store.Event) {
	if t.haveWorst && t.cmp(e, t.worst) >= 0 {
		return
	}
	t.evs = append(t.evs, e)
	t.dirty = true
	if len(t.evs) >= 2*t.limit {
		t.sort()
	}
}

func (t *topEvents) sort() {
	if !t.dirty {
		return
	}
	slices.SortFunc(t.evs, t.cmp)
	t.evs = t.evs[:min(len(t.evs), t.limit)]
	t.dirty = false
	if len(t.evs) == t.limit {
		t.worst, t.haveWorst = t.evs[t.limit-1], true
	}
}

// bound is the last of the limit events kept, if there are that many.
func (t *topEvents) bound() (store.Event, bool) {
	t.sort()
	return t.worst, t.haveWorst
}

// sorted is the events kept, in order.
func (t *topEvents) sorted() []store.Event {
	t.sort()
	return t.evs
}

// packedEvents reads the events of seqs that are in packs, in c: the
// packs that may hold each seq (its batch's, found from seq_first) are
// read once and expanded. A seq in no pack is not in the map. in maps
// each event found to its pack's seq_first.
func (s *Store) packedEvents(ctx context.Context, c Conn, seqs []int64) (events map[int64]store.Event, in map[int64]int64, err error) {
	events, in = map[int64]store.Event{}, map[int64]int64{}
	read := map[int64]bool{} // the packs expanded, by seq_first
	q := text{c, packSelect + ` WHERE seq_first <= ` + s.param(1) + ` AND seq_first >= ` + s.param(2) + ` AND seq_last >= ` + s.param(3)}
	for _, seq := range seqs {
		if _, ok := events[seq]; ok {
			continue
		}
		found, err := collect(ctx, q, scanPack, seq, seq-packMaxSeqSpan, seq)
		if err != nil {
			return nil, nil, err
		}
		for i := range found {
			p := &found[i]
			if read[p.seqFirst] {
				continue
			}
			read[p.seqFirst] = true
			if err := p.expand(func(e store.Event) error {
				events[e.Seq], in[e.Seq] = e, p.seqFirst
				return nil
			}); err != nil {
				return nil, nil, err
			}
		}
	}
	return events, in, nil
}

// fromPacks reads from packs the events of those of n answers that came
// back without their event's row: seqOf(i) is answer i's seq and whether
// its event was missing. Nil when none was.
func (s *Store) fromPacks(ctx context.Context, c Conn, n int, seqOf func(i int) (int64, bool)) (map[int64]store.Event, error) {
	var missing []int64
	for i := range n {
		if seq, ok := seqOf(i); ok {
			missing = append(missing, seq)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	found, _, err := s.packedEvents(ctx, c, missing)
	return found, err
}
