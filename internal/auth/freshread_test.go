package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFreshReadNeverAnswersWithAnEarlierRead: a caller arriving while a
// read is in flight gets the result of a read that started after it
// arrived, and callers arriving together share one.
func TestFreshReadNeverAnswersWithAnEarlierRead(t *testing.T) {
	var started atomic.Int64
	release := make(chan struct{})
	f := &freshRead{read: func(context.Context) (int64, error) {
		n := started.Add(1) // the value is the read's start order
		<-release
		return n, nil
	}}
	ctx := t.Context()
	results, first := make(chan int64, 10), make(chan int64, 1)
	go func() { v, _ := f.Read(ctx); first <- v }() // starts read 1
	waitFor(t, func() bool { return started.Load() == 1 })

	// Arriving while read 1 runs: they must not take read 1's value.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { v, _ := f.Read(ctx); results <- v })
	}
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.queued != nil })
	time.Sleep(20 * time.Millisecond) // let all five join the queued read
	close(release)
	wg.Wait()
	if v := <-first; v != 1 {
		t.Fatalf("the first caller got read %d, want 1", v)
	}
	for range 5 {
		if v := <-results; v != 2 {
			t.Errorf("a caller that arrived during read 1 got read %d, want 2 (started after it arrived)", v)
		}
	}
	if n := started.Load(); n != 2 {
		t.Errorf("%d reads for 6 callers, want 2", n)
	}
}

func TestFreshReadCanceledCallerDoesNotFailOthers(t *testing.T) {
	release := make(chan struct{})
	f := &freshRead{read: func(ctx context.Context) (int64, error) {
		select {
		case <-release:
			return 7, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { _, err := f.Read(ctx); errc <- err }()
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.running != nil })
	got := make(chan int64, 1)
	go func() { v, _ := f.Read(t.Context()); got <- v }()
	cancel()
	if err := <-errc; err == nil {
		t.Error("a canceled caller got no error")
	}
	close(release)
	if v := <-got; v != 7 {
		t.Errorf("the other caller got %d, want 7", v)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
