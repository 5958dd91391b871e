package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// Defaults of the recorder's batching.
const (
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultBatchSize     = 1024
	DefaultQueueSize     = 16384
	// flushAttempts is how many times a batch the store refused is tried
	// before it is dropped (and logged).
	flushAttempts = 3
	// writeTimeout bounds one batch's write.
	writeTimeout = 10 * time.Second
)

// Appender is what the recorder needs of the metadata store.
type Appender interface {
	AppendEvents(ctx context.Context, events []store.Event) error
}

// Recorder makes events of what the registry serves. Push events go
// through the write's transaction (Push); pull and failure events through
// a queue that Run writes in batches (Record).
type Recorder struct {
	st        Appender
	source    string
	log       *slog.Logger
	every     time.Duration
	batch     int
	limit     int // events that may wait
	blobPulls bool
	subs      *Subscriptions
	dropped   atomic.Int64

	// The queue is a buffer under a mutex, not a channel: a channel's
	// receiver parked between events is woken (a futex call on each side)
	// for every event sent, which at thousands of pulls a second cost the
	// pull path more than writing the events did. Record appends; Run is
	// woken by its ticker, or by ready when a batch has filled.
	mu     sync.Mutex
	queued []store.Event
	ready  chan struct{} // capacity 1
}

// Option configures NewRecorder.
type Option func(*Recorder)

// WithLogger sets the logger for events the recorder could not write.
func WithLogger(l *slog.Logger) Option { return func(r *Recorder) { r.log = l } }

// WithBlobPulls makes blob GETs pull events too (events.blob_pulls): off by
// default, because clients fetch many blobs per image.
func WithBlobPulls(on bool) Option { return func(r *Recorder) { r.blobPulls = on } }

// WithSubscriptions delivers each event to the subscriptions of subs it
// matches: a pending delivery is recorded with the event. The recorder's
// Run keeps subs' set fresh.
func WithSubscriptions(subs *Subscriptions) Option { return func(r *Recorder) { r.subs = subs } }

// WithBatching sets how often queued events are written, how many at
// most in one transaction, and how many may wait; past that, Record drops
// events (and counts them) rather than slow a request down.
func WithBatching(every time.Duration, batch, queue int) Option {
	return func(r *Recorder) { r.every, r.batch, r.limit = every, batch, queue }
}

// NewRecorder returns a recorder writing to st, with source (the
// registry's external URL) as every event's CloudEvents source.
func NewRecorder(st Appender, source string, opts ...Option) *Recorder {
	r := &Recorder{st: st, source: source, log: slog.New(slog.DiscardHandler),
		every: DefaultFlushInterval, batch: DefaultBatchSize, limit: DefaultQueueSize, ready: make(chan struct{}, 1)}
	for _, o := range opts {
		o(r)
	}
	r.queued = make([]store.Event, 0, r.batch)
	return r
}

// BlobPulls reports whether blob GETs are recorded.
func (r *Recorder) BlobPulls() bool { return r.blobPulls }

// Dropped is how many pull and failure events were dropped so far because
// the queue was full or the store refused them.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Push returns the store.TxFunc that appends the push event d in the
// transaction of the write it reports, with the tag's previous digest. The
// event's id is chosen now: a transaction run again keeps it.
func (r *Recorder) Push(d Data) store.TxFunc {
	id := newID(d.When)
	return func(ctx context.Context, tx store.Tx, w store.Written) error {
		d := d
		d.Previous = string(w.Previous)
		e, err := r.event(id, TypePush, &d)
		if err != nil {
			return err
		}
		e.Subscriptions = r.matching(TypePush, d.Repository)
		return tx.AppendEvent(ctx, e)
	}
}

// Record queues the event d of type typ (a pull, or a failed push) to be
// written with the next batch. It never blocks: with the queue full the
// event is dropped and counted.
func (r *Recorder) Record(typ string, d Data) {
	e, err := r.event(newID(d.When), typ, &d)
	if err != nil {
		r.log.Error("encode event", "err", err)
		return
	}
	e.Subscriptions = r.matching(typ, d.Repository)
	r.mu.Lock()
	if len(r.queued) >= r.limit {
		r.mu.Unlock()
		r.dropped.Add(1)
		return
	}
	r.queued = append(r.queued, e)
	n := len(r.queued)
	r.mu.Unlock()
	if n == r.batch {
		select {
		case r.ready <- struct{}{}:
		default:
		}
	}
}

// take returns what is queued and leaves the queue empty, reusing spare's
// array (a batch already written) for what is queued next.
func (r *Recorder) take(spare []store.Event) []store.Event {
	clear(spare) // the written events' data is garbage now
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.queued
	r.queued = spare[:0]
	return out
}

// matching are the subscriptions an event of typ about repo goes to.
func (r *Recorder) matching(typ, repo string) []string {
	if r.subs == nil {
		return nil
	}
	return r.subs.Matching(typ, repo)
}

// event is d as a row of the event log.
func (r *Recorder) event(id, typ string, d *Data) (store.Event, error) {
	b, err := d.MarshalJSON() // not json.Marshal, which would check and compact it again
	if err != nil {
		return store.Event{}, fmt.Errorf("event data: %w", err)
	}
	e := store.Event{
		ID: id, Type: typ, Source: r.source, Subject: d.subject(), Time: d.When,
		Repository: d.Repository, Failed: d.Error != nil, Actor: d.Actor.Key(), Data: b,
	}
	if d.Error != nil {
		e.ErrorCode = d.Error.Code
	}
	return e, nil
}

// Run writes queued events in batches until ctx ends, then writes what is
// still queued and returns.
func (r *Recorder) Run(ctx context.Context) {
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	// taken is what was last taken from the queue; taken[done:] is still
	// to be written.
	var taken []store.Event
	done, attempts := 0, 0
	lastDropped := int64(0)
	// Writes outlive ctx: what was queued before shutdown is still written.
	wctx := context.WithoutCancel(ctx)
	// flush writes what was taken and then what is queued, a batch (one
	// transaction) at a time, until both are empty or the store refuses.
	flush := func() {
		for {
			if done == len(taken) {
				taken, done = r.take(taken), 0
				if len(taken) == 0 {
					return
				}
			}
			n := min(len(taken)-done, r.batch)
			ctx, cancel := context.WithTimeout(wctx, writeTimeout)
			err := r.st.AppendEvents(ctx, taken[done:done+n])
			cancel()
			attempts++
			switch {
			case err == nil:
				done, attempts = done+n, 0
			case attempts >= flushAttempts:
				r.log.ErrorContext(ctx, "events dropped: the store refused them", "events", n, "err", err)
				r.dropped.Add(int64(n))
				done, attempts = done+n, 0
			default:
				r.log.WarnContext(ctx, "write events; trying again", "events", n, "err", err)
				return
			}
		}
	}
	for {
		select {
		case <-r.ready:
			flush()
		case <-tick.C:
			flush()
			if r.subs != nil && r.subs.RefreshDue() {
				if err := r.subs.Refresh(ctx, false); err != nil && ctx.Err() == nil {
					r.log.WarnContext(ctx, "refresh subscriptions", "err", err)
				}
			}
			if d := r.dropped.Load(); d != lastDropped {
				r.log.WarnContext(ctx, "pull and failure events dropped", "total", d, "since_last_report", d-lastDropped)
				lastDropped = d
			}
		case <-ctx.Done():
			for {
				flush()
				r.mu.Lock()
				empty := len(r.queued) == 0
				r.mu.Unlock()
				if empty && done == len(taken) {
					return
				}
			}
		}
	}
}
