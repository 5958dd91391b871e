package sqlstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// A pack is many events of the log in one row of event_packs: the row
// says what they share (type, source, repository, actor, outcome, error
// code), and its events column holds the rest of each, in seq order. Each
// field is coded against the event before it, because a pack's events are
// pulls of one repository by one actor within a second: their ids share
// the time digits, their subjects and data differ in a few bytes (the
// time, a digest). A string is its common prefix and suffix with the one
// before, as two lengths, then the bytes between.

// packFormat is the first byte of a pack's events column.
const packFormat = 1

// packedEvent is what a pack keeps of one event beyond the row's columns.
type packedEvent struct {
	Seq     int64
	Time    int64 // Unix nanoseconds
	ID      string
	Subject string
	Data    []byte
}

// appendPack appends the encoding of evs, in seq order, to b. seqFirst and
// timeFirst are the row's: no seq of evs is below seqFirst.
func appendPack(b []byte, seqFirst, timeFirst int64, evs []packedEvent) []byte {
	b = append(b, packFormat)
	prev := packedEvent{Seq: seqFirst, Time: timeFirst}
	for _, e := range evs {
		b = binary.AppendUvarint(b, uint64(e.Seq-prev.Seq))
		b = binary.AppendVarint(b, e.Time-prev.Time)
		b = appendDelta(b, prev.ID, e.ID)
		b = appendDelta(b, prev.Subject, e.Subject)
		b = appendDeltaBytes(b, prev.Data, e.Data)
		prev = e
	}
	return b
}

// appendDelta appends s as its common prefix and suffix with prev (two
// lengths) and the bytes between them.
func appendDelta(b []byte, prev, s string) []byte {
	p := 0
	for p < len(prev) && p < len(s) && prev[p] == s[p] {
		p++
	}
	q := 0
	for q < len(prev)-p && q < len(s)-p && prev[len(prev)-1-q] == s[len(s)-1-q] {
		q++
	}
	return appendSpan(b, s, p, q)
}

// appendDeltaBytes is appendDelta of byte slices (an event's data, a few
// hundred bytes), comparing eight bytes at a time.
func appendDeltaBytes(b []byte, prev, s []byte) []byte {
	p := commonPrefix(prev, s)
	return appendSpan(b, s, p, commonSuffix(prev[p:], s[p:]))
}

// appendSpan appends s as sharing its first p and last q bytes with the
// value before it: the two lengths, then the bytes between.
func appendSpan[T ~string | ~[]byte](b []byte, s T, p, q int) []byte {
	b = binary.AppendUvarint(b, uint64(p))
	b = binary.AppendUvarint(b, uint64(q))
	mid := s[p : len(s)-q]
	b = binary.AppendUvarint(b, uint64(len(mid)))
	return append(b, mid...)
}

// commonPrefix is the length of the longest prefix a and b share.
func commonPrefix(a, b []byte) int {
	n, i := min(len(a), len(b)), 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8 // the lowest byte that differs
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// commonSuffix is the length of the longest suffix a and b share.
func commonSuffix(a, b []byte) int {
	n, i := min(len(a), len(b)), 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(a[len(a)-i-8:]) ^ binary.LittleEndian.Uint64(b[len(b)-i-8:])
		if x != 0 {
			return i + bits.LeadingZeros64(x)/8 // the highest byte that differs
		}
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

// errPack is a pack's events column that does not decode: a damaged row.
var errPack = errors.New("damaged event pack")

// decodePack calls fn with each event of a pack's events column b, in seq
// order, and stops at fn's first error. An event's Data is its own copy.
func decodePack(b []byte, seqFirst, timeFirst int64, fn func(packedEvent) error) error {
	if len(b) == 0 || b[0] != packFormat {
		return fmt.Errorf("%w: format %v", errPack, b[:min(len(b), 1)])
	}
	d := packDecoder{b: b[1:]}
	prev := packedEvent{Seq: seqFirst, Time: timeFirst}
	for len(d.b) > 0 {
		var e packedEvent
		e.Seq = prev.Seq + int64(d.uvarint())
		e.Time = prev.Time + d.varint()
		e.ID = d.delta(prev.ID)
		e.Subject = d.delta(prev.Subject)
		e.Data = d.deltaBytes(prev.Data)
		if d.err != nil {
			return d.err
		}
		if e.Seq < prev.Seq {
			return fmt.Errorf("%w: seqs out of order", errPack)
		}
		if err := fn(e); err != nil {
			return err
		}
		prev = e
	}
	return nil
}

// packDecoder reads a pack's events; its first failure sticks in err.
type packDecoder struct {
	b   []byte
	err error
}

func (d *packDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errPack, what)
	}
	d.b = nil
}

func (d *packDecoder) uvarint() uint64 { return number(d, binary.Uvarint) }
func (d *packDecoder) varint() int64   { return number(d, binary.Varint) }

// number reads one varint of d with read.
func number[T uint64 | int64](d *packDecoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail("a number is cut short")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// span reads what appendSpan wrote against a value of prevLen bytes: the
// shared prefix's and suffix's lengths and the bytes between, consumed.
func (d *packDecoder) span(prevLen int) (p, q int, mid []byte, ok bool) {
	up, uq, n := d.uvarint(), d.uvarint(), d.uvarint()
	if d.err != nil {
		return 0, 0, nil, false
	}
	if up > uint64(prevLen) || uq > uint64(prevLen)-up || n > uint64(len(d.b)) {
		d.fail("a string is out of range")
		return 0, 0, nil, false
	}
	mid, d.b = d.b[:n], d.b[n:]
	return int(up), int(uq), mid, true
}

// deltaBytes reads bytes appendDeltaBytes wrote against prev, into a
// slice of their own.
func (d *packDecoder) deltaBytes(prev []byte) []byte {
	p, q, mid, ok := d.span(len(prev))
	if !ok {
		return nil
	}
	out := make([]byte, 0, p+len(mid)+q)
	out = append(out, prev[:p]...)
	out = append(out, mid...)
	return append(out, prev[len(prev)-q:]...)
}

// delta reads a string appendDelta wrote against prev.
func (d *packDecoder) delta(prev string) string {
	p, q, mid, ok := d.span(len(prev))
	if !ok {
		return ""
	}
	return prev[:p] + string(mid) + prev[len(prev)-q:]
}

// The bounds of a pack. A pack's events span at most packMaxSpan of time,
// so that a scan of packs in time order knows when no later pack can hold
// an earlier event; their seqs at most packMaxSeqSpan, so that the packs
// that may hold a seq are found from seq_first; and a pack holds at most
// packMaxEvents, so that it decodes in well under a millisecond.
const (
	packMinEvents  = 4 // see splitPacks
	packMaxEvents  = 1024
	packMaxSpan    = int64(time.Second)
	packMaxSeqSpan = 4096
)

// packable reports whether AppendEvents may keep e in a pack rather than a
// row of its own: a pull or a failure. A successful push is found through
// the tag history's index on rows.
func packable(e store.Event) bool {
	return e.Failed || e.Type != pushType
}

// packKey is what a pack's events share: the row's columns.
type packKey struct {
	typ, source, repository, actor, errorCode string
	failed                                    bool
}

func keyOf(e store.Event) packKey {
	return packKey{typ: e.Type, source: e.Source, repository: e.Repository, actor: e.Actor, errorCode: e.ErrorCode, failed: e.Failed}
}

// packGroup is one pack to write: the indexes of its events in the batch,
// in order, and the bounds of their times and seqs.
type packGroup struct {
	key                 packKey
	events              []int
	timeFirst, timeLast int64
	seqFirst, seqLast   int64
}

// groupPacks sorts the packable events of a batch into packs by what they
// share, in the batch's order, starting another pack of the same key when
// one is full or an event would stretch it past a bound. seqs[i] is the
// seq of batch[i], increasing over the packable events.
func groupPacks(batch []store.Event, seqs []int64) []packGroup {
	var out []packGroup
	open := map[packKey]int{} // the key's last pack in out
	for i, e := range batch {
		if !packable(e) {
			continue
		}
		k, at, seq := keyOf(e), nanos(e.Time), seqs[i]
		if j, ok := open[k]; ok {
			g := &out[j]
			first, last := min(g.timeFirst, at), max(g.timeLast, at)
			if len(g.events) < packMaxEvents && last-first <= packMaxSpan && seq-g.seqFirst <= packMaxSeqSpan {
				g.events = append(g.events, i)
				g.timeFirst, g.timeLast, g.seqLast = first, last, seq
				continue
			}
		}
		open[k] = len(out)
		out = append(out, packGroup{key: k, events: []int{i}, timeFirst: at, timeLast: at, seqFirst: seq, seqLast: seq})
	}
	return out
}
