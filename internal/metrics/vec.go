package metrics

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// vec is the label sets of one family, created on first use.
type vec[T any] struct {
	mu     sync.RWMutex
	labels []string
	m      map[string]*labeled[T]
	make   func() *T
}

type labeled[T any] struct {
	values []string
	v      *T
}

func newVec[T any](labels []string, make func() *T) *vec[T] {
	return &vec[T]{labels: labels, m: map[string]*labeled[T]{}, make: make}
}

// get returns the metric for values, creating it. It panics on a wrong
// number of values: a programming error.
func (v *vec[T]) get(values []string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %d label values for labels %v", len(values), v.labels))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	e, ok := v.m[key]
	v.mu.RUnlock()
	if ok {
		return e.v
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.m[key]; ok {
		return e.v
	}
	e = &labeled[T]{values: slices.Clone(values), v: v.make()}
	v.m[key] = e
	return e.v
}

// each calls fn for every label set, in label-string order.
func (v *vec[T]) each(fn func(labels string, m *T)) {
	v.mu.RLock()
	type item struct {
		labels string
		m      *T
	}
	items := make([]item, 0, len(v.m))
	for _, e := range v.m {
		items = append(items, item{labelString(v.labels, e.values), e.v})
	}
	v.mu.RUnlock()
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.labels, b.labels) })
	for _, it := range items {
		fn(it.labels, it.m)
	}
}

// Counter only goes up.
type Counter struct{ v atomicFloat }

// Add adds d, which must not be negative.
func (c *Counter) Add(d float64) {
	if d < 0 {
		panic("metrics: counter decreased")
	}
	c.v.add(d)
}

// Inc adds one.
func (c *Counter) Inc() { c.v.add(1) }

// CounterVec is counters by label values.
type CounterVec struct {
	name, help string
	vec        *vec[Counter]
}

// NewCounterVec registers a counter family on r.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, vec: newVec(labels, func() *Counter { return &Counter{} })}
	r.register(c)
	return c
}

// With returns the counter for the label values, in the order the labels
// were declared.
func (c *CounterVec) With(values ...string) *Counter { return c.vec.get(values) }

func (c *CounterVec) metricName() string { return c.name }

func (c *CounterVec) write(w *writer) {
	w.header(c.name, c.help, "counter")
	c.vec.each(func(labels string, m *Counter) { w.sample(c.name, labels, m.v.load()) })
}

// Gauge goes up and down.
type Gauge struct {
	name, help string
	v          atomic.Int64
}

// NewGauge registers a gauge on r.
func (r *Registry) NewGauge(name, help string) *Gauge {
	g := &Gauge{name: name, help: help}
	r.register(g)
	return g
}

// Inc adds one.
func (g *Gauge) Inc() { g.v.Add(1) }

// Dec subtracts one.
func (g *Gauge) Dec() { g.v.Add(-1) }

func (g *Gauge) metricName() string { return g.name }

func (g *Gauge) write(w *writer) {
	w.header(g.name, g.help, "gauge")
	w.sample(g.name, "", float64(g.v.Load()))
}

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	upper  []float64 // sorted upper bounds, without +Inf
	counts []atomic.Uint64
	count  atomic.Uint64
	sum    atomicFloat
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	if i, _ := slices.BinarySearch(h.upper, v); i < len(h.counts) {
		h.counts[i].Add(1)
	}
	h.count.Add(1)
	h.sum.add(v)
}

// HistogramVec is histograms by label values.
type HistogramVec struct {
	name, help string
	buckets    []float64
	vec        *vec[Histogram]
}

// NewHistogramVec registers a histogram family with the given bucket
// upper bounds on r.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := slices.Clone(buckets)
	slices.Sort(b)
	h := &HistogramVec{name: name, help: help, buckets: b}
	h.vec = newVec(labels, func() *Histogram {
		return &Histogram{upper: b, counts: make([]atomic.Uint64, len(b))}
	})
	r.register(h)
	return h
}

// With returns the histogram for the label values.
func (h *HistogramVec) With(values ...string) *Histogram { return h.vec.get(values) }

func (h *HistogramVec) metricName() string { return h.name }

func (h *HistogramVec) write(w *writer) {
	w.header(h.name, h.help, "histogram")
	h.vec.each(func(labels string, m *Histogram) {
		sep := ""
		if labels != "" {
			sep = ","
		}
		var cum uint64
		for i, ub := range m.upper {
			cum += m.counts[i].Load()
			w.sample(h.name+"_bucket", labels+sep+`le="`+formatFloat(ub)+`"`, float64(cum))
		}
		count := m.count.Load()
		w.sample(h.name+"_bucket", labels+sep+`le="+Inf"`, float64(count))
		w.sample(h.name+"_sum", labels, m.sum.load())
		w.sample(h.name+"_count", labels, float64(count))
	})
}
