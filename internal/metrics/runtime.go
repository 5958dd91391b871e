package metrics

import (
	"runtime/metrics"
	"time"
)

// runtimeFamily writes a few Go runtime and process figures, read when
// scraped: go_goroutines, go_memstats_heap_alloc_bytes, go_gc_cycles_total,
// process_start_time_seconds, and where the platform has them
// process_cpu_seconds_total and process_resident_memory_bytes.
type runtimeFamily struct {
	start time.Time
}

// RegisterRuntime adds the runtime and process figures to r. start is the
// process's start time (time.Now() early in main is close enough).
func (r *Registry) RegisterRuntime(start time.Time) { r.register(&runtimeFamily{start: start}) }

// metricName sorts the family among the go_ names.
func (f *runtimeFamily) metricName() string { return "go_" }

func (f *runtimeFamily) write(w *writer) {
	s := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(s)
	value := func(i int) float64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return float64(s[i].Value.Uint64())
		}
		return 0
	}
	w.header("go_goroutines", "Number of goroutines that currently exist.", "gauge")
	w.sample("go_goroutines", "", value(0))
	w.header("go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects.", "gauge")
	w.sample("go_memstats_heap_alloc_bytes", "", value(1))
	w.header("go_gc_cycles_total", "Completed GC cycles.", "counter")
	w.sample("go_gc_cycles_total", "", value(2))
	w.header("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", "gauge")
	w.sample("process_start_time_seconds", "", float64(f.start.UnixNano())/1e9)
	if cpu, ok := processCPUSeconds(); ok {
		w.header("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter")
		w.sample("process_cpu_seconds_total", "", cpu)
	}
	if rss, ok := processRSS(); ok {
		w.header("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge")
		w.sample("process_resident_memory_bytes", "", rss)
	}
}
