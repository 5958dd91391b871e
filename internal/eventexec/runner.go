package eventexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/events"
)

// Defaults.
const (
	// DefaultTimeout is how long a command may run before it is killed.
	DefaultTimeout = 10 * time.Minute
	// DefaultRemember is how many events whose command succeeded a Runner
	// remembers, so that their late deliveries do not run it again.
	DefaultRemember = 4096
	// waitDelay bounds how long Wait waits for the command's output
	// after it exited or was killed, when a process it left behind holds
	// the pipes open.
	waitDelay = 2 * time.Second
)

// ErrStopped is returned by Run for an event that arrives after the
// Runner's context ended.
var ErrStopped = errors.New("the listener is stopping")

// Error is a command's failure: Reason is a short text that names nothing
// of this machine, for the registry's record of the delivery; Err is the
// cause, for the person running the listener.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Option configures New.
type Option func(*Runner)

// WithTimeout sets how long a command may run (DefaultTimeout); then its
// process group is killed and the run fails.
func WithTimeout(d time.Duration) Option { return func(r *Runner) { r.timeout = d } }

// WithEnv sets the environment the CHAINCTL_EVENT_* variables are added
// to: the listener's own, as os.Environ returns it. Nil is none.
func WithEnv(env []string) Option { return func(r *Runner) { r.env = env } }

// WithOutput sets where the commands' standard output and error go; nil
// discards them. Writes from commands that run at once are serialized.
func WithOutput(stdout, stderr io.Writer) Option {
	return func(r *Runner) { r.stdout, r.stderr = stdout, stderr }
}

// WithRemember sets how many succeeded events are remembered
// (DefaultRemember).
func WithRemember(n int) Option { return func(r *Runner) { r.ok = newRecent(n) } }

// WithHooks sets functions called as each command starts and when it has
// finished, with its error (nil for success) and how long it ran: to
// report them. They are called from the goroutine that runs commands for
// the event's repository.
func WithHooks(started func(event.Event), finished func(event.Event, error, time.Duration)) Option {
	return func(r *Runner) { r.started, r.finished = started, finished }
}

// Runner runs a command for each event. Its zero value is not usable;
// call New.
type Runner struct {
	ctx            context.Context
	argv           []string
	env            []string
	timeout        time.Duration
	stdout, stderr io.Writer
	started        func(event.Event)
	finished       func(event.Event, error, time.Duration)

	wg     sync.WaitGroup
	mu     sync.Mutex
	queues map[string][]*run // by repository: the first is running
	runs   map[string]*run   // by event key: queued or running
	ok     *recent           // event keys whose command succeeded
}

// run is one event's command, queued or running; done is closed when it
// finished and err is set.
type run struct {
	key  string
	ev   event.Event
	repo string
	done chan struct{}
	err  error
}

// New returns a Runner of the command argv (argv[0] is looked up in
// $PATH unless it has a slash). Commands run until ctx ends at the
// latest: then running ones are killed, queued ones fail, and Run refuses
// new events; Wait waits for the commands to be gone.
func New(ctx context.Context, argv []string, opts ...Option) (*Runner, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("no command to run")
	}
	r := &Runner{ctx: ctx, argv: argv, timeout: DefaultTimeout,
		queues: map[string][]*run{}, runs: map[string]*run{}, ok: newRecent(DefaultRemember)}
	for _, o := range opts {
		o(r)
	}
	if r.timeout <= 0 {
		return nil, fmt.Errorf("command timeout %v: want more than 0", r.timeout)
	}
	out := &lockedWriter{}
	r.stdout, r.stderr = out.wrap(r.stdout), out.wrap(r.stderr)
	return r, nil
}

// Run runs the command for ev, whose data must be an events.Data, after
// the commands of earlier events of its repository, and returns nil when
// it exited 0, else an *Error (or ErrStopped, or ctx's error).
//
// Events are known by source and id, as CloudEvents identifies them: if
// ev's command is queued or running already, Run waits for that run's
// result rather than starting another; if it succeeded lately, Run
// returns nil at once; if it failed, it runs again. When ctx ends first
// Run returns ctx.Err(), but the run goes on and its result counts for
// the event's next delivery.
func (r *Runner) Run(ctx context.Context, ev event.Event) error {
	var d events.Data
	if err := json.Unmarshal(ev.Data(), &d); err != nil {
		return &Error{Reason: "the event's data could not be read", Err: err}
	}
	key := ev.Source() + " " + ev.ID()
	r.mu.Lock()
	if r.ok.has(key) {
		r.mu.Unlock()
		return nil
	}
	ru, ok := r.runs[key]
	if !ok {
		if r.ctx.Err() != nil {
			r.mu.Unlock()
			return ErrStopped
		}
		ru = &run{key: key, ev: ev, repo: d.Repository, done: make(chan struct{})}
		r.runs[key] = ru
		q := r.queues[ru.repo]
		r.queues[ru.repo] = append(q, ru)
		if len(q) == 0 {
			r.wg.Add(1)
			go r.work(ru.repo)
		}
	}
	r.mu.Unlock()
	select {
	case <-ru.done:
		return ru.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits until no command runs any more and none is queued: after
// the Runner's context ended, until the killed commands are gone.
func (r *Runner) Wait() { r.wg.Wait() }

// work runs the queue of repo until it is empty, then removes it.
func (r *Runner) work(repo string) {
	defer r.wg.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queues[repo]) > 0 {
		ru := r.queues[repo][0]
		r.mu.Unlock()
		err := r.exec(ru)
		r.mu.Lock()
		ru.err = err
		delete(r.runs, ru.key)
		if err == nil {
			r.ok.add(ru.key)
		}
		close(ru.done)
		q := r.queues[repo]
		q[0] = nil
		if q = q[1:]; len(q) == 0 {
			delete(r.queues, repo)
		} else {
			r.queues[repo] = q
		}
	}
}

// exec runs the command for ru once.
func (r *Runner) exec(ru *run) (err error) {
	if r.ctx.Err() != nil {
		return ErrStopped
	}
	stdin, err := json.Marshal(ru.ev)
	if err != nil {
		return &Error{Reason: "the event could not be encoded", Err: err}
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.argv[0], r.argv[1:]...)
	cmd.Stdin = bytes.NewReader(append(stdin, '\n'))
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	cmd.Env = environ(r.env, ru.ev)
	cmd.WaitDelay = waitDelay
	killGroupOnCancel(cmd)

	began := time.Now()
	if r.started != nil {
		r.started(ru.ev)
	}
	if r.finished != nil {
		defer func() { r.finished(ru.ev, err, time.Since(began)) }()
	}
	if err := cmd.Start(); err != nil {
		return &Error{Reason: "the command could not start", Err: err}
	}
	err = cmd.Wait()
	switch {
	case err == nil:
		return nil
	case r.ctx.Err() != nil:
		return &Error{Reason: ErrStopped.Error(), Err: err}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Reason: fmt.Sprintf("the command timed out after %v", r.timeout), Err: err}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return &Error{Reason: fmt.Sprintf("the command exited with status %d", ee.ExitCode()), Err: err}
	}
	return &Error{Reason: "the command failed", Err: err}
}

// lockedWriter serializes the writes of commands that run at once to
// one writer (a terminal's or a test's buffer).
type lockedWriter struct{ mu sync.Mutex }

func (l *lockedWriter) wrap(w io.Writer) io.Writer {
	if w == nil {
		return nil // exec's null device
	}
	return writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return w.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// queued is how many runs of repo are queued or running (tests).
func (r *Runner) queued(repo string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queues[repo])
}
