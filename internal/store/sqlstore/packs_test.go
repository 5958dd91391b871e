package sqlstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

func packedEvents(r *rand.Rand, n int) []packedEvent {
	evs := make([]packedEvent, n)
	seq, at := int64(100), int64(1_765_000_000_000_000_000)
	digests := []string{"sha256:0123456789abcdef", "sha256:fedcba9876543210", ""}
	for i := range evs {
		seq += 1 + r.Int64N(3)
		at += r.Int64N(2_000_000) - 500_000 // not always in time order
		d := digests[r.IntN(len(digests))]
		evs[i] = packedEvent{
			Seq: seq, Time: at, ID: fmt.Sprintf("%012x%020x", at/1e6, r.Uint64()),
			Subject: "acme/app@" + d,
			Data:    fmt.Appendf(nil, `{"repository":"acme/app","digest":%q,"when":"%d","user_agent":"containerd/2.0.%d"}`, d, at, r.IntN(3)),
		}
	}
	return evs
}

func decodeAll(t *testing.T, b []byte, seqFirst, timeFirst int64) []packedEvent {
	t.Helper()
	var got []packedEvent
	if err := decodePack(b, seqFirst, timeFirst, func(e packedEvent) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("decodePack = %v", err)
	}
	return got
}

func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 100, 1024} {
		evs := packedEvents(r, n)
		seqFirst, timeFirst := int64(100), int64(1_765_000_000_000_000_000)
		b := appendPack(nil, seqFirst, timeFirst, evs)
		got := decodeAll(t, b, seqFirst, timeFirst)
		if len(got) != len(evs) || (n > 0 && !reflect.DeepEqual(got, evs)) {
			t.Fatalf("%d events: decoded %d, first difference in %+v", n, len(got), got[:min(len(got), 2)])
		}
		if n == 1024 {
			// The point of it: a pull costs a few dozen bytes, not the
			// ~600 of a row, even when neighbours differ in digest,
			// client and a random id as these do.
			if per := len(b) / n; per > 128 {
				t.Errorf("%d bytes an event, want at most 128", per)
			}
		}
	}
	// Empty strings and data, and equal neighbours.
	evs := []packedEvent{{Seq: 7, Time: 5}, {Seq: 8, Time: 5, ID: "a", Subject: "a", Data: []byte("a")}, {Seq: 9, Time: 4, ID: "a", Subject: "a", Data: []byte("a")}, {Seq: 9, Time: 4}}
	if got := decodeAll(t, appendPack(nil, 7, 5, evs), 7, 5); len(got) != 4 || got[1].ID != "a" || got[2].Time != 4 || got[3].Subject != "" || len(got[3].Data) != 0 {
		t.Errorf("decoded %+v", got)
	}
}

func TestPackDecodeStops(t *testing.T) {
	b := appendPack(nil, 1, 1, packedEvents(rand.New(rand.NewPCG(3, 4)), 10))
	stop := errors.New("stop")
	n := 0
	if err := decodePack(b, 1, 1, func(packedEvent) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("decodePack = %v after %d events, want the callback's error after 1", err, n)
	}
}

func FuzzDecodePack(f *testing.F) {
	f.Add(appendPack(nil, 1, 1, packedEvents(rand.New(rand.NewPCG(5, 6)), 3)))
	f.Add([]byte{packFormat})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any bytes: an error or events, never a panic or a seq going back.
		last := int64(-1 << 62)
		err := decodePack(b, 0, 0, func(e packedEvent) error {
			if e.Seq < last {
				t.Fatalf("seq %d after %d", e.Seq, last)
			}
			last = e.Seq
			return nil
		})
		if err != nil && !errors.Is(err, errPack) {
			t.Fatalf("decodePack = %v, want errPack", err)
		}
	})
}

func TestGroupPacks(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	ev := func(repo string, at time.Duration) store.Event {
		return store.Event{Type: "dev.chainctl.registry.pull.v1", Source: "s", Repository: repo, Actor: "anonymous", Time: t0.Add(at)}
	}
	pushed := ev("a", 0)
	pushed.Type = pushType
	failedPush := pushed
	failedPush.Failed, failedPush.ErrorCode = true, "DENIED"
	subscribed := ev("a", 0)
	subscribed.Subscriptions = []string{"sub"}
	batch := []store.Event{
		ev("a", 0), ev("b", 0), pushed, ev("a", 900*time.Millisecond), subscribed, failedPush,
		ev("a", 100*time.Millisecond),  // out of order, within the pack's second
		ev("a", 1200*time.Millisecond), // past it: a second pack of a
		ev("b", time.Second),
	}
	seqs := make([]int64, len(batch))
	for i := range seqs {
		seqs[i] = int64(10 + i)
	}
	var got []string
	for _, g := range groupPacks(batch, seqs) {
		got = append(got, fmt.Sprintf("%s%s%v %v-%v", g.key.repository, g.key.errorCode, g.events,
			time.Duration(g.timeFirst-nanos(t0)), time.Duration(g.timeLast-nanos(t0))))
	}
	want := []string{"a[0 3 4 6] 0s-900ms", "b[1 8] 0s-1s", "aDENIED[5] 0s-0s", "a[7] 1.2s-1.2s"}
	if !slices.Equal(got, want) {
		t.Errorf("groupPacks = %q, want %q", got, want)
	}

	full := make([]store.Event, packMaxEvents+1)
	seqs = make([]int64, len(full))
	for i := range full {
		full[i], seqs[i] = ev("a", time.Duration(i)), int64(i)
	}
	if g := groupPacks(full, seqs); len(g) != 2 || len(g[0].events) != packMaxEvents || g[1].events[0] != packMaxEvents || g[0].seqLast != packMaxEvents-1 {
		t.Errorf("a batch of %d: %d packs", len(full), len(g))
	}
	// Seqs far apart (other replicas took those between) split a pack.
	seqs = []int64{1, 2, 3 + packMaxSeqSpan}
	if g := groupPacks(full[:3], seqs); len(g) != 2 || g[0].seqFirst != 1 || g[0].seqLast != 2 || g[1].seqFirst != 3+packMaxSeqSpan {
		t.Errorf("seqs %v: packs %+v", seqs, g)
	}
}

func TestSplitPacks(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	var batch []store.Event
	add := func(repo string, n int) {
		for i := range n {
			batch = append(batch, store.Event{ID: fmt.Sprintf("%s-%d", repo, i), Type: "dev.chainctl.registry.pull.v1", Repository: repo, Time: t0})
		}
	}
	add("one", 1)
	add("three", packMinEvents-1)
	add("four", packMinEvents)
	packed, rows := splitPacks(batch)
	if len(packed) != packMinEvents || packed[0].Repository != "four" || len(rows) != packMinEvents || rows[0].ID != "one-0" || rows[1].ID != "three-0" {
		t.Errorf("splitPacks = %q packed, %q in rows; want the %d of four packed", ids(packed), ids(rows), packMinEvents)
	}
}

func ids(evs []store.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func TestCommonPrefixSuffix(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	naive := func(a, b []byte, fromEnd bool) int {
		n := 0
		for n < len(a) && n < len(b) {
			x, y := a[n], b[n]
			if fromEnd {
				x, y = a[len(a)-1-n], b[len(b)-1-n]
			}
			if x != y {
				break
			}
			n++
		}
		return n
	}
	for range 5000 {
		a := make([]byte, r.IntN(40))
		for i := range a {
			a[i] = byte('a' + r.IntN(2))
		}
		b := append([]byte(nil), a...)
		if len(b) > 0 && r.IntN(2) == 0 {
			b[r.IntN(len(b))] ^= 1
		}
		b = b[:r.IntN(len(b)+1)]
		if got, want := commonPrefix(a, b), naive(a, b, false); got != want {
			t.Fatalf("commonPrefix(%q, %q) = %d, want %d", a, b, got, want)
		}
		if got, want := commonSuffix(a, b), naive(a, b, true); got != want {
			t.Fatalf("commonSuffix(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
}
