package metrics

import (
	"bytes"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads r's output with Prometheus's own text parser.
func parse(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("Prometheus cannot parse the exposition: %v\n%s", err, buf.String())
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestExposition(t *testing.T) {
	r := NewRegistry()
	reqs := r.NewCounterVec("test_requests_total", "Requests, by route.\nSecond line \\ with a backslash.", "route", "method")
	inFlight := r.NewGauge("test_in_flight", "In flight.")
	dur := r.NewHistogramVec("test_duration_seconds", "Durations.", []float64{0.5, 0.1, 1}, "route")
	r.RegisterRuntime(time.Unix(1700000000, 0))

	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			reqs.With("base", "GET").Inc()
			dur.With("base").Observe(0.3)
		})
	}
	wg.Wait()
	reqs.With(`we"ird\route`+"\n", "POST").Add(2.5)
	inFlight.Inc()
	inFlight.Inc()
	inFlight.Dec()
	dur.With("base").Observe(0.05)
	dur.With("base").Observe(7)

	fams := parse(t, r)
	c := fams["test_requests_total"]
	if c.GetType() != dto.MetricType_COUNTER || len(c.GetMetric()) != 2 || !strings.Contains(c.GetHelp(), "Second line") {
		t.Fatalf("counter family = %v", c)
	}
	for _, m := range c.GetMetric() {
		switch label(m, "route") {
		case "base":
			if m.GetCounter().GetValue() != 100 || label(m, "method") != "GET" {
				t.Errorf("base counter = %v", m)
			}
		case `we"ird\route` + "\n":
			if m.GetCounter().GetValue() != 2.5 {
				t.Errorf("escaped-label counter = %v", m)
			}
		default:
			t.Errorf("unexpected series %v", m)
		}
	}
	if g := fams["test_in_flight"].GetMetric()[0].GetGauge().GetValue(); g != 1 {
		t.Errorf("gauge = %v, want 1", g)
	}
	h := fams["test_duration_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 102 || h.GetSampleSum() < 37.04 || h.GetSampleSum() > 37.06 {
		t.Errorf("histogram count %d sum %v, want 102 and 37.05", h.GetSampleCount(), h.GetSampleSum())
	}
	want := map[float64]uint64{0.1: 1, 0.5: 101, 1: 101, math.Inf(1): 102} // cumulative, buckets sorted
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() != want[b.GetUpperBound()] {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want[b.GetUpperBound()])
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_cycles_total", "process_start_time_seconds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	if st := fams["process_start_time_seconds"].GetMetric()[0].GetGauge().GetValue(); st != 1700000000 {
		t.Errorf("start time = %v", st)
	}
	if g := fams["go_goroutines"].GetMetric()[0].GetGauge().GetValue(); g < 1 {
		t.Errorf("go_goroutines = %v", g)
	}
}

func TestHandlerAndMisuse(t *testing.T) {
	r := NewRegistry()
	r.NewCounterVec("a_total", "A.", "x").With("1").Inc()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(rec.Body.String(), `a_total{x="1"} 1`) {
		t.Errorf("body = %q", rec.Body.String())
	}
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("duplicate name", func() { r.NewGauge("a_total", "again") })
	mustPanic("wrong label count", func() { r.NewCounterVec("b_total", "B.", "x", "y").With("only one") })
	mustPanic("negative counter", func() { r.NewCounterVec("c_total", "C.").With().Add(-1) })
}
