package auth

import (
	"context"
	"sync"
	"time"
)

// freshReadTimeout bounds one shared read.
const freshReadTimeout = 5 * time.Second

// freshRead coalesces reads of a value (the pull tokens' version) so that
// every caller gets a value read after it called — a revocation committed
// before a /token request arrived is always seen — while concurrent callers
// share reads: at most one read is running and one queued behind it, which
// every caller arriving meanwhile joins. Under load a replica reads the
// version about twice per database round trip, not once per request.
type freshRead struct {
	read func(ctx context.Context) (int64, error)

	mu      sync.Mutex
	running *freshCall
	queued  *freshCall
}

// freshCall is one read and its result.
type freshCall struct {
	ctx  context.Context // the first caller's, without its cancellation
	done chan struct{}
	v    int64
	err  error
}

// Read returns the value as read by a read that started after Read was
// called.
func (f *freshRead) Read(ctx context.Context) (int64, error) {
	f.mu.Lock()
	var c *freshCall
	start := false
	switch {
	case f.running == nil:
		// Nothing in flight: start a read now.
		c, start = newFreshCall(ctx), true
		f.running = c
	case f.queued == nil:
		// A read is in flight, but it may have started before this call:
		// queue one behind it.
		c = newFreshCall(ctx)
		f.queued = c
	default:
		// A queued read has not started yet: it will start after now.
		c = f.queued
	}
	f.mu.Unlock()
	if start {
		// In its own goroutine, so that this caller, canceled, need not
		// wait for the read the others share.
		go f.run(c)
	}
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func newFreshCall(ctx context.Context) *freshCall {
	return &freshCall{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
}

// run reads for c, then starts the queued read, if any.
func (f *freshRead) run(c *freshCall) {
	ctx, cancel := context.WithTimeout(c.ctx, freshReadTimeout)
	c.v, c.err = f.read(ctx)
	cancel()
	f.mu.Lock()
	next := f.queued
	f.running, f.queued = next, nil
	f.mu.Unlock()
	close(c.done)
	if next != nil {
		go f.run(next)
	}
}
