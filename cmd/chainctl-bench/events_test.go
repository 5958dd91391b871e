package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallel(t *testing.T) {
	var seen [100]atomic.Int32
	if err := parallel(t.Context(), 8, len(seen), func(_ context.Context, i int) error {
		seen[i].Add(1)
		return nil
	}); err != nil {
		t.Fatalf("parallel = %v", err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Errorf("op(%d) ran %d times, want once", i, n)
		}
	}
	boom := errors.New("boom")
	var ran atomic.Int32
	err := parallel(t.Context(), 2, 1000, func(ctx context.Context, i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || ran.Load() >= 1000 {
		t.Errorf("parallel = %v after %d ops, want %v and a stop", err, ran.Load(), boom)
	}
}
