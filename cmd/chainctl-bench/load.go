package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// load is the result of a hammer phase.
type load struct {
	requests int
	wall     time.Duration
	cpu      float64
	lat      []time.Duration // sorted
}

// quantile returns the q-quantile latency (nearest rank).
func (l load) quantile(q float64) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(l.lat))+0.999999) - 1
	return l.lat[min(max(i, 0), len(l.lat)-1)]
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (l load) outcome(id string) outcome {
	return outcome{
		values: map[string]float64{
			id:          float64(l.requests) / l.wall.Seconds(),
			id + "-p50": ms(l.quantile(0.50)),
			id + "-p99": ms(l.quantile(0.99)),
		},
		cpu: l.cpu,
	}
}

// hammer runs op from workers goroutines in a closed loop for d, or until
// maxRequests requests in all, and records each request's latency. The
// first error stops every worker and is returned.
func hammer(ctx context.Context, workers int, d time.Duration, maxRequests int, op func(ctx context.Context, iter int) error) (load, error) {
	// Requests in flight at the deadline are let finish; the extra 30 s
	// bounds a server that stops answering.
	ctx, cancel := context.WithTimeoutCause(ctx, d+30*time.Second, fmt.Errorf("load phase did not finish within %s", d+30*time.Second))
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	perWorker := max(maxRequests/workers, 1)
	lats := make([][]time.Duration, workers)
	var l load
	var wg sync.WaitGroup
	l.wall, l.cpu, _ = timed(func() error {
		deadline := time.Now().Add(d)
		for w := range workers {
			wg.Go(func() {
				own := make([]time.Duration, 0, 4096)
				for i := 0; i < perWorker && ctx.Err() == nil; i++ {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					if err := op(ctx, i); err != nil {
						stop(err)
						break
					}
					own = append(own, time.Since(t0))
				}
				lats[w] = own
			})
		}
		wg.Wait()
		return nil
	})
	if err := context.Cause(ctx); err != nil {
		return load{}, err
	}
	for _, own := range lats {
		l.lat = append(l.lat, own...)
	}
	slices.Sort(l.lat)
	l.requests = len(l.lat)
	return l, nil
}
