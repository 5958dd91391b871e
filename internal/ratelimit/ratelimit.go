// Package ratelimit limits repeated failures by key: after Max failures
// within Window of the first, the key is blocked until that window ends.
// The token service uses it so that a pull token's secret cannot be
// guessed online: failures count per token id and per client address.
//
// Counts live in memory, per process: with several replicas an attacker
// gets Max tries per window from each. The memory is bounded by MaxKeys.
package ratelimit

import (
	"sync"
	"time"
)

// DefaultMaxKeys bounds the keys a Failures tracks.
const DefaultMaxKeys = 100_000

// Failures counts failures per key. The zero value is not usable; use New.
type Failures struct {
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]*span
}

// span is a key's failures since start.
type span struct {
	start time.Time
	n     int
}

// Option configures New.
type Option func(*Failures)

// WithClock sets the clock, for tests.
func WithClock(now func() time.Time) Option { return func(f *Failures) { f.now = now } }

// WithMaxKeys bounds the number of keys tracked at once (default
// DefaultMaxKeys). When it is reached, windows that have ended are
// dropped; if none has, the oldest is.
func WithMaxKeys(n int) Option { return func(f *Failures) { f.maxKeys = n } }

// New returns a limiter that blocks a key after max failures within
// window of its first.
func New(max int, window time.Duration, opts ...Option) *Failures {
	f := &Failures{max: max, window: window, maxKeys: DefaultMaxKeys, now: time.Now, entries: map[string]*span{}}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Blocked reports whether key is blocked now and, if so, how long until it
// is not.
func (f *Failures) Blocked(key string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	w, ok := f.entries[key]
	if !ok {
		return 0, false
	}
	end := w.start.Add(f.window)
	if !now.Before(end) {
		delete(f.entries, key)
		return 0, false
	}
	if w.n < f.max {
		return 0, false
	}
	return end.Sub(now), true
}

// Fail records a failure of key.
func (f *Failures) Fail(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	w, ok := f.entries[key]
	if ok && !now.Before(w.start.Add(f.window)) {
		ok = false // that window has ended: start another
	}
	if !ok {
		if len(f.entries) >= f.maxKeys {
			f.evictLocked(now)
		}
		w = &span{start: now}
		f.entries[key] = w
	}
	w.n++
}

// evictLocked makes room for one key: every ended window goes, or else
// the oldest one.
func (f *Failures) evictLocked(now time.Time) {
	var oldest string
	var oldestStart time.Time
	for k, w := range f.entries {
		if !now.Before(w.start.Add(f.window)) {
			delete(f.entries, k)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = k, w.start
		}
	}
	if len(f.entries) >= f.maxKeys && oldest != "" {
		delete(f.entries, oldest)
	}
}
