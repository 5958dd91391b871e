// Package metrics is the registry's Prometheus metrics: counters, a gauge
// and histograms with labels, a few Go runtime and process figures, and
// the text exposition format (version 0.0.4) that Prometheus scrapes.
//
// It replaces the Prometheus client library, which every chainctl command
// paid for at start-up (its collectors and protobuf descriptors are built
// in package init, about 1.5 ms of the CLI's start), for the handful of
// metric kinds the server uses. The output is checked against Prometheus's
// own parser in the tests.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metrics and writes them out. The zero value is not
// usable; use NewRegistry.
type Registry struct {
	mu       sync.Mutex
	families []family
	names    map[string]bool
}

// family is one metric name: its HELP, TYPE and samples.
type family interface {
	metricName() string
	write(w *writer)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

func (r *Registry) register(f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[f.metricName()] {
		panic("metrics: " + f.metricName() + " registered twice") // a programming error, at start-up
	}
	r.names[f.metricName()] = true
	r.families = append(r.families, f)
}

// WriteTo writes every metric in the text exposition format, families in
// name order and samples in label order, so that output is stable.
func (r *Registry) WriteTo(out io.Writer) (int64, error) {
	r.mu.Lock()
	fs := slices.Clone(r.families)
	r.mu.Unlock()
	slices.SortFunc(fs, func(a, b family) int { return strings.Compare(a.metricName(), b.metricName()) })
	w := &writer{w: out}
	for _, f := range fs {
		f.write(w)
	}
	return w.n, w.err
}

// Handler serves the registry's metrics.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = r.WriteTo(w)
	})
}

// writer accumulates the first error and the byte count.
type writer struct {
	w   io.Writer
	n   int64
	err error
}

func (w *writer) printf(format string, args ...any) {
	if w.err != nil {
		return
	}
	n, err := fmt.Fprintf(w.w, format, args...)
	w.n += int64(n)
	w.err = err
}

func (w *writer) header(name, help, typ string) {
	w.printf("# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

// sample writes one line: name{labels} value.
func (w *writer) sample(name, labels string, v float64) {
	if labels != "" {
		labels = "{" + labels + "}"
	}
	w.printf("%s%s %s\n", name, labels, formatFloat(v))
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// labelString renders names and values as name="value",... in name order.
func labelString(names, values []string) string {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	var b strings.Builder
	for k, i := range idx {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(names[i])
		b.WriteString(`="`)
		b.WriteString(escapeLabel(values[i]))
		b.WriteByte('"')
	}
	return b.String()
}

// atomicFloat is a float64 updated with compare-and-swap.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) add(v float64) {
	for {
		old := f.bits.Load()
		if f.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (f *atomicFloat) load() float64 { return math.Float64frombits(f.bits.Load()) }
