package keyedmutex

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMutex(t *testing.T) {
	var k Mutex
	keys := []string{"a", "b", "c"}
	// One counter per key, allocated up front: goroutines holding
	// different keys never write the same memory, and the map itself is
	// only read.
	inside := map[string]*atomic.Int32{}
	counts := map[string]*int{}
	for _, key := range keys {
		inside[key] = new(atomic.Int32)
		counts[key] = new(int)
	}
	var overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := range 300 {
		key := keys[i%len(keys)]
		wg.Go(func() {
			unlock := k.Lock(key)
			if inside[key].Add(1) != 1 {
				overlaps.Add(1)
			}
			*counts[key]++
			runtime.Gosched() // give another holder of the key a chance to get in
			inside[key].Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d times two callers held one key at once", n)
	}
	for _, key := range keys {
		if *counts[key] != 100 {
			t.Errorf("counts[%s] = %d, want 100", key, *counts[key])
		}
	}
	if len(k.m) != 0 {
		t.Errorf("%d entries left after every unlock, want 0", len(k.m))
	}
}

func TestDifferentKeysDoNotBlock(t *testing.T) {
	var k Mutex
	unlockA := k.Lock("a")
	defer unlockA()
	done := make(chan struct{})
	go func() {
		k.Lock("b")()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal(`locking "b" waited for the holder of "a"`)
	}
}
