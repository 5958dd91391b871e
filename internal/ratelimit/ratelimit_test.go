package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/fakeclock"
)

func TestFailuresBlockAndEnd(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := New(3, time.Minute, WithClock(clk.Now))
	for i := range 3 {
		if d, blocked := f.Blocked("k"); blocked {
			t.Fatalf("Blocked after %d failures = %v, true; want not blocked", i, d)
		}
		f.Fail("k")
		clk.Advance(10 * time.Second)
	}
	// Three failures from 00:00:00 to 00:00:20: blocked until 00:01:00.
	d, blocked := f.Blocked("k")
	if !blocked || d != 30*time.Second {
		t.Fatalf("Blocked after 3 failures = %v, %v; want 30s, true", d, blocked)
	}
	if _, blocked := f.Blocked("other"); blocked {
		t.Error("another key is blocked too")
	}
	f.Fail("k") // failing while blocked does not extend the block
	clk.Advance(30 * time.Second)
	if d, blocked := f.Blocked("k"); blocked {
		t.Fatalf("Blocked once the window ended = %v, true; want not blocked", d)
	}
	// A new window starts afresh.
	f.Fail("k")
	if _, blocked := f.Blocked("k"); blocked {
		t.Error("one failure in a new window blocks")
	}
}

func TestFailuresBoundedKeys(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := New(1, time.Minute, WithClock(clk.Now), WithMaxKeys(10))
	for i := range 25 {
		f.Fail(fmt.Sprint("k", i))
		clk.Advance(time.Millisecond)
	}
	if n := len(f.entries); n > 10 {
		t.Fatalf("%d keys tracked, want at most 10", n)
	}
	// The newest keys are kept, the oldest dropped.
	if _, blocked := f.Blocked("k24"); !blocked {
		t.Error("the newest key was dropped")
	}
	if _, blocked := f.Blocked("k0"); blocked {
		t.Error("the oldest key was kept past the bound")
	}
}

func TestFailuresConcurrent(t *testing.T) {
	f := New(1000, time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				f.Fail("k")
				f.Blocked("k")
			}
		})
	}
	wg.Wait()
	if _, blocked := f.Blocked("k"); blocked {
		t.Error("800 failures of 1000 allowed block")
	}
	f.Fail("k")
	for range 199 {
		f.Fail("k")
	}
	if _, blocked := f.Blocked("k"); !blocked {
		t.Error("1000 failures do not block")
	}
}
