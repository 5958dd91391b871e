// Package schedwait tells whether the process is short of CPU, from how
// long its goroutines wait to run once they are ready (the Go runtime's
// /sched/latencies histogram). Background work asks it before each unit of
// work and yields while requests are queueing for the processors: like a
// pressure stall figure, but of this process, on every platform.
package schedwait

import (
	"runtime/metrics"
	"sync"
	"time"
)

const (
	// Wait is how long a ready goroutine must have waited to count as
	// having waited: a handful of context switches, well above what an
	// idle process shows.
	Wait = 100 * time.Microsecond
	// Share is the part of a window's schedulings that must have waited
	// for the process to be busy. Saturated by HTTP requests on two cores,
	// a registry shows 0.1 to 0.25.
	Share = 0.08
	// MinSchedulings is how many schedulings a window needs before it can
	// be busy: a nearly idle process is never busy, however long its few
	// goroutines waited.
	MinSchedulings = 200
	// Window is how long a reading is reused.
	Window = 100 * time.Millisecond
)

const latencies = "/sched/latencies:seconds"

// Monitor reads the runtime's scheduling latencies. It is safe for
// concurrent use.
type Monitor struct {
	mu     sync.Mutex
	sample []metrics.Sample
	prev   []uint64 // the histogram's counts at the last reading
	read   time.Time
	busy   bool
	now    func() time.Time
}

// New returns a Monitor that counts from now.
func New() *Monitor {
	m := &Monitor{sample: []metrics.Sample{{Name: latencies}}, now: time.Now}
	m.Busy()
	return m
}

// Busy reports whether, since the previous reading (at least Window ago,
// or it returns that reading's answer), at least Share of the schedulings
// of at least MinSchedulings waited Wait or longer to run.
func (m *Monitor) Busy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if !m.read.IsZero() && now.Sub(m.read) < Window {
		return m.busy
	}
	m.read = now
	metrics.Read(m.sample)
	if m.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return false // a runtime without the metric: never busy
	}
	h := m.sample[0].Value.Float64Histogram()
	var all, waited uint64
	for i, c := range h.Counts {
		if i < len(m.prev) {
			c -= m.prev[i]
		}
		all += c
		// Buckets[i] is bucket i's lower bound.
		if h.Buckets[i] >= Wait.Seconds() {
			waited += c
		}
	}
	m.prev = append(m.prev[:0], h.Counts...)
	m.busy = all >= MinSchedulings && float64(waited) >= Share*float64(all)
	return m.busy
}
