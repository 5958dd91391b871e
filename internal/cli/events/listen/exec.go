package listen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/eventexec"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink"
)

// handler is what listen does with each verified event: filter it, run
// --exec for it, print it.
type handler struct {
	filter filter
	p      *printer
	runner *eventexec.Runner // nil without --exec
}

// newRunner returns the runner of --exec, or nil without it. Its
// commands write to stderr, and each success is printed.
func newRunner(ctx context.Context, opts *ListenOptions, p *printer) (*eventexec.Runner, error) {
	if len(opts.ExecArgv) == 0 {
		return nil, nil
	}
	return eventexec.New(ctx, opts.ExecArgv,
		eventexec.WithEnv(opts.Env),
		eventexec.WithTimeout(opts.ExecTimeout),
		eventexec.WithOutput(p.errWriter(), p.errWriter()),
		eventexec.WithHooks(p.started, func(ev event.Event, err error, took time.Duration) {
			p.finished(ev, err, took)
			if err == nil {
				_ = p.print(ctx, ev)
			}
		}))
}

// deliver handles one verified delivery; an error is answered 500.
// Without --exec the event is printed; with it, it is printed once its
// command succeeded (by the runner's hook), so that standard output lists
// each event handled once, however often it was delivered.
func (h *handler) deliver(ctx context.Context, ev event.Event) error {
	if !h.filter.match(ev) {
		return nil
	}
	if h.runner == nil {
		return h.p.print(ctx, ev)
	}
	err := h.runner.Run(ctx, ev)
	var ee *eventexec.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return eventsink.Failed(ee.Reason, err)
	case errors.Is(err, eventexec.ErrStopped):
		return eventsink.Failed(err.Error(), err)
	case ctx.Err() != nil:
		// The registry gave up on this attempt (10 s); the command goes
		// on, and the next delivery waits for it.
		return eventsink.Failed("the command is still running", err)
	}
	return err
}

// started reports on stderr that a command started for ev.
func (p *printer) started(ev event.Event) {
	st := p.opts.IO.ErrStyles()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.opts.IO.ErrOut, "%s running %s for %s %s (event %s)\n", st.Faint("▸"),
		cmdutil.OneLine(filepath.Base(p.opts.ExecArgv[0])), events.ShortType(ev.Type()), cmdutil.OneLine(ev.Subject()), cmdutil.OneLine(ev.ID()))
}

// finished reports on stderr how a command for ev ended.
func (p *printer) finished(ev event.Event, err error, took time.Duration) {
	st := p.opts.IO.ErrStyles()
	what := events.ShortType(ev.Type()) + " " + cmdutil.OneLine(ev.Subject())
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		fmt.Fprintf(p.opts.IO.ErrOut, "%s %s handled in %s\n", st.Success("✓"), what, took.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(p.opts.IO.ErrOut, "%s %s failed after %s: %s; the registry will deliver it again\n",
		st.Error("X"), what, took.Round(time.Millisecond), cmdutil.OneLine(err.Error()))
}

// errWriter writes to stderr under the printer's lock, so that the
// commands' output and listen's own lines do not cut into each other.
func (p *printer) errWriter() io.Writer { return lockedWriter{p} }

type lockedWriter struct{ p *printer }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.opts.IO.ErrOut.Write(b)
}
