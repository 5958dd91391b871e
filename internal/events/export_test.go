package events

import (
	"context"
	"time"
)

// WithPause replaces how a yielding worker waits (WithYield), for tests.
func WithPause(pause func(ctx context.Context, d time.Duration)) DispatcherOption {
	return func(d *Dispatcher) { d.pause = pause }
}
