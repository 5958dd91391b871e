// Package listen is the `chainctl events listen` command: a sink for a
// registry's event deliveries on this machine, which verifies each one and
// prints its event.
package listen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	authshared "github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/eventexec"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// DefaultAddr is where the listener binds unless --addr says otherwise:
// loopback only.
const DefaultAddr = "127.0.0.1:8080"

// shutdownTimeout bounds how long deliveries in progress may finish
// after Ctrl-C.
const shutdownTimeout = 5 * time.Second

// ListenOptions are the inputs of `chainctl events listen`.
type ListenOptions struct {
	IO         *iostreams.IOStreams
	HTTPClient func() (*http.Client, error)
	// JSON prints events as JSON lines even on a terminal (-o json).
	JSON bool

	// Registry is the registry's URL, whose issuer signs the deliveries.
	Registry string
	// Addr is the host:port to listen on.
	Addr string
	// SinkURL is the URL the registry delivers to, the audience of its
	// tokens; "" is http://<the address bound>/.
	SinkURL string
	// Listener, when set, is served instead of listening on Addr (tests).
	Listener net.Listener
	// Location is the time zone of times printed on a terminal; nil is
	// the local one.
	Location *time.Location

	// Exec is --exec as given; ExecArgv its words, the command run for
	// each event (none: print only).
	Exec     string
	ExecArgv []string
	// ExecTimeout bounds each run of the command.
	ExecTimeout time.Duration
	// Env is the environment the command gets, plus the event's
	// variables: the listener's own.
	Env []string
	// Types and Repositories are --type and --repository as given;
	// filter is them parsed.
	Types, Repositories, Kinds []string
	filter                     filter
}

// NewCmdListen returns `chainctl events listen`. runF replaces listenRun
// in tests.
func NewCmdListen(f *cmdutil.Factory, runF func(context.Context, *ListenOptions) error) *cobra.Command {
	opts := &ListenOptions{IO: f.IOStreams, HTTPClient: f.HTTPClient, Env: os.Environ()}
	var registryFlag string
	cmd := &cobra.Command{
		Use:   "listen [--addr HOST:PORT] [--sink-url URL] [--exec 'CMD ARGS'] [flags]",
		Short: "Receive a registry's events here: verify each delivery, print it or run a command",
		Long: cmdutil.Heredoc(`
			Listen on --addr for the registry's event deliveries, verify each one, and
			print its event: a sink for this machine, for scripts and for tests, and an
			example of what any receiver must check (see "chainctl events --help").

			At start it fetches the registry's discovery document and keys
			(<registry>/.well-known/openid-configuration and its jwks_uri), and prints on
			standard error where it listens and the "chainctl events subscriptions
			create" line that subscribes it. For every POST it then checks the bearer
			token: ES256 only, signed by a key of the registry (keys are fetched again,
			at most every 30 seconds, for a key id not known yet), iss the registry's
			issuer, aud the sink URL (--sink-url, by default http://<addr>/), exp, nbf
			and iat within a minute, sub subscription:<id>, and digest the sha256 of
			the body, which is read up to 1 MiB. Then it parses the CloudEvent, whose
			unsigned ce-source, ce-subject and ce-type must agree with its signed data.

			A delivery that fails is answered 401 with a short reason, which is also
			printed on standard error (the token never is); one that is not a registry
			event, 400; a good one, 204, and its event is printed on standard output:
			a line for people on a terminal (time, push or pull, subject, actor, and ok
			or the error the registry answered), otherwise, or with -o json, the whole
			CloudEvent as one JSON object per line (id, source, type, subject, time,
			data), for jq and scripts.

			It binds only to --addr, 127.0.0.1:8080 by default: loopback, which a
			registry run with --dev (or with events.allow_private_sinks) delivers to
			over plain http. Behind a tunnel or proxy, give --sink-url the public URL
			the subscription names. Ctrl-C stops it.

			--type and --repository filter here, as a subscription does at the registry
			(push, pull; team/app, team/* or *, comma-separated or repeated), and --kind
			by what the event is about (manifest, blob: pushing an image makes a blob
			event per layer and config before its manifest's, so a script that rebuilds
			on a push wants --kind manifest): an event that does not match is answered
			204 and ignored, neither printed nor run.

			With --exec 'CMD ARGS' it runs the command for each event, including failed
			pushes and pulls (CHAINCTL_EVENT_ERROR says so). The line is split into words
			as a shell would ('single' and "double" quotes, backslashes), but no shell
			runs it: variables, globs, pipes and redirections are refused, not passed on.
			For those run a shell yourself: --exec 'sh -c "deploy \"\$CHAINCTL_EVENT_TAG\""',
			or better, a script. The command gets the event on standard input, as the
			JSON object printed for it, and these variables on top of the listener's
			environment (replacing any of the same name):

			  CHAINCTL_EVENT_TYPE        push or pull
			  CHAINCTL_EVENT_KIND        manifest or blob: each blob uploaded is a push too
			  CHAINCTL_EVENT_REPOSITORY  acme/app
			  CHAINCTL_EVENT_TAG         v1, or empty (by digest)
			  CHAINCTL_EVENT_DIGEST      sha256:..., or empty
			  CHAINCTL_EVENT_SUBJECT     acme/app:v1 or acme/app@sha256:...
			  CHAINCTL_EVENT_ID          the event's id, the same in every delivery of it
			  CHAINCTL_EVENT_ERROR       empty, or the failed request's status and code

			Its standard output and error go to listen's standard error. Commands of one
			repository run one at a time, in the order their events arrived; those of
			different repositories may run at once. The delivery is answered 204 only
			when the command exits 0, and the event is then printed; if it exits
			otherwise, cannot start, or runs longer than --exec-timeout (then its process
			group is killed), the answer is 500 with the reason, and the registry delivers
			the event again later, with backoff.

			The registry waits 10 seconds for an answer, and a command may take longer.
			So events are known by their id: a delivery of an event whose command is
			still queued or running waits for that run instead of starting another; one
			whose command succeeded (the last 4096 events, while listen runs) is answered
			204 without running it again; one whose command failed runs it again. A
			command may still run twice for an event (listen restarted in between), so
			make it safe to repeat.
		`),
		Example: cmdutil.Examples(`
			# Terminal 1: a registry, and a listener for it
			$ chainctl registry serve --dev &
			$ chainctl events listen --registry 127.0.0.1:5000

			# Terminal 2: subscribe the listener, then push
			$ chainctl events subscriptions create http://127.0.0.1:8080/ --registry 127.0.0.1:5000 --repository 'acme/*'
			$ crane copy cgr.dev/chainguard/static 127.0.0.1:5000/acme/static

			# Run a script for each push under acme/, one at a time per repository
			$ chainctl events listen --type push --kind manifest --repository 'acme/*' --exec './deploy.sh --env prod'

			# In a script: the data of every push, as JSON lines
			$ chainctl events listen --addr 127.0.0.1:9000 | jq -c 'select(.type == "dev.chainctl.registry.push.v1") | .data'
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.check(); err != nil {
				return err
			}
			reg, err := f.Registry(registryFlag)
			if err != nil {
				return err
			}
			opts.Registry = reg.URL
			opts.JSON = f.Globals != nil && f.Globals.Output == cmdutil.OutputJSON
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listenRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", DefaultAddr, "`HOST:PORT` to listen on; port 0 picks a free one")
	fl.StringVar(&opts.SinkURL, "sink-url", "", "`URL` the registry delivers to, as subscribed: the audience tokens must name (default http://ADDR/)")
	fl.StringVar(&opts.Exec, "exec", "", "run `'CMD ARGS'` for each event (split like a shell's words; no shell runs it), answering 204 only if it exits 0")
	fl.DurationVar(&opts.ExecTimeout, "exec-timeout", eventexec.DefaultTimeout, "kill the --exec command (its process group) after this `DURATION`, a failure")
	fl.StringSliceVar(&opts.Types, "type", nil, "handle only events of these `TYPES`: push, pull (default both)")
	fl.StringSliceVar(&opts.Repositories, "repository", nil, "handle only events of repositories matching `PATTERN`: team/app, team/* or * (default all)")
	fl.StringSliceVar(&opts.Kinds, "kind", nil, "handle only events of these `KINDS`: manifest, blob (a push of an image is a blob event per layer and config, then its manifest's; default both)")
	authshared.AddRegistryFlag(fl, &registryFlag)
	return cmdutil.SupportJSON(cmd)
}

// check reads --addr, --sink-url, --exec and the filters.
func (o *ListenOptions) check() error {
	if err := o.checkExec(); err != nil {
		return err
	}
	var err error
	if o.filter, err = parseFilter(o.Types, o.Repositories, o.Kinds); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return cmdutil.FlagErrorf("--addr %q: want HOST:PORT, such as %s", o.Addr, DefaultAddr)
	}
	if o.SinkURL != "" {
		u, err := url.Parse(o.SinkURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cmdutil.FlagErrorf("--sink-url %q: want an absolute http(s) URL, as the subscription names it", o.SinkURL)
		}
		return nil
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return cmdutil.FlagErrorf("--addr %q listens on every address: give --sink-url, the URL the registry delivers to", o.Addr)
	}
	return nil
}

// checkExec reads --exec and --exec-timeout.
func (o *ListenOptions) checkExec() error {
	if o.ExecTimeout <= 0 {
		return cmdutil.FlagErrorf("--exec-timeout %v: want a duration above 0, such as 10m", o.ExecTimeout)
	}
	if o.Exec == "" {
		return nil
	}
	argv, err := eventexec.Split(o.Exec)
	switch {
	case err != nil:
		return cmdutil.FlagErrorf("--exec: %v", err)
	case len(argv) == 0:
		return cmdutil.FlagErrorf("--exec: no command")
	}
	o.ExecArgv = argv
	return nil
}

func listenRun(ctx context.Context, opts *ListenOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := api.ParseRegistryURL(opts.Registry); err != nil {
		return err
	}
	var hc *http.Client
	if opts.HTTPClient != nil {
		var err error
		if hc, err = opts.HTTPClient(); err != nil {
			return err
		}
	}

	ln := opts.Listener
	if ln == nil {
		var lc net.ListenConfig
		var err error
		if ln, err = lc.Listen(ctx, "tcp", opts.Addr); err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return &cmdutil.HintError{Err: err, Hint: "another process uses " + opts.Addr + ": choose another --addr (port 0 picks a free one)"}
			}
			return fmt.Errorf("listen: %w", err)
		}
	}
	defer ln.Close()
	sink := opts.SinkURL
	if sink == "" {
		sink = "http://" + ln.Addr().String() + "/"
	}

	v, err := eventsink.New(opts.Registry, sink, eventsink.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	if err := v.Discover(ctx); err != nil {
		return &cmdutil.HintError{Err: fmt.Errorf("fetch the registry's signing keys: %w", err),
			Hint: "is the registry at " + opts.Registry + " up? Its keys are at " + opts.Registry + "/.well-known/openid-configuration"}
	}
	announce(opts, sink, v.Issuer())

	p := &printer{opts: opts, jsonLines: opts.JSON || !opts.IO.IsStdoutTTY(), loc: opts.Location}
	if p.loc == nil {
		p.loc = time.Local
	}
	runner, err := newRunner(ctx, opts, p)
	if err != nil {
		return err
	}
	h := &handler{filter: opts.filter, p: p, runner: runner}
	srv := &http.Server{
		Handler:           eventsink.NewHandler(v, h.deliver, eventsink.WithRefused(p.refused)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	<-errc
	if runner != nil {
		runner.Wait() // ctx ended: the commands were killed
	}
	return nil
}

// announce tells, on stderr, where the listener is and how to subscribe it.
func announce(opts *ListenOptions, sink, issuer string) {
	st := opts.IO.ErrStyles()
	w := opts.IO.ErrOut
	from := opts.Registry
	if issuer != opts.Registry {
		from += " (issuer " + issuer + ")"
	}
	fmt.Fprintf(w, "Listening on %s for events of %s; Ctrl-C stops.\n", st.Bold(sink), from)
	fmt.Fprintf(w, "Subscribe it with:\n  %s\n", st.Code("chainctl events subscriptions create "+sink+
		" --registry "+opts.Registry+" --type push,pull --repository PATTERN"))
	if len(opts.ExecArgv) > 0 {
		fmt.Fprintf(w, "Running %s for each event, one at a time per repository; its output follows here.\n",
			st.Code(cmdutil.OneLine(strings.Join(opts.ExecArgv, " "))))
	}
	if u, err := url.Parse(sink); err == nil && u.Scheme == "http" {
		fmt.Fprintln(w, st.Faint("(a plain-http sink is accepted on loopback by a registry run with --dev or events.allow_private_sinks)"))
	}
}

// printer prints events as they come, one at a time.
type printer struct {
	opts      *ListenOptions
	jsonLines bool
	loc       *time.Location
	mu        sync.Mutex
}

// print writes ev on stdout: a JSON line, or a line for people.
func (p *printer) print(_ context.Context, ev event.Event) error {
	var line string
	if p.jsonLines {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		line = string(b)
	} else {
		line = p.readable(ev)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintln(p.opts.IO.Out, line)
	return err
}

// readable is ev as one line: time, push or pull, subject, actor, outcome.
func (p *printer) readable(ev event.Event) string {
	st := p.opts.IO.OutStyles()
	var d events.Data
	_ = json.Unmarshal(ev.Data(), &d) // Verify decoded it already
	outcome := st.Success("ok")
	if e := d.Error; e != nil {
		outcome = st.Error(cmdutil.OneLine(fmt.Sprintf("failed: %d %s %s", e.Status, e.Code, e.Message)))
	}
	when := ev.Time()
	if when.IsZero() {
		when = d.When
	}
	return fmt.Sprintf("%s  %-4s  %s  %s  %s",
		when.In(p.loc).Format(time.DateTime), events.ShortType(ev.Type()), cmdutil.OneLine(ev.Subject()), cmdutil.OneLine(actor(d.Actor)), outcome)
}

// actor names who acted, for people.
func actor(a events.Actor) string {
	switch {
	case a.PullToken != "":
		return "pull token " + a.PullToken
	case len(a.Identities) > 0:
		s := strings.Join(a.Identities, ",")
		if a.Subject != "" {
			s += " (" + a.Subject + ")"
		}
		return s
	case a.Anonymous:
		return "anonymous"
	}
	return "-"
}

// refused reports a delivery the handler refused, on stderr; a failed
// command was reported as it ended.
func (p *printer) refused(r *http.Request, status int, err error) {
	if _, ok := errors.AsType[*eventexec.Error](err); ok {
		return
	}
	st := p.opts.IO.ErrStyles()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.opts.IO.ErrOut, "%s refused a delivery from %s: %d %s\n", st.Warning("!"), r.RemoteAddr, status, cmdutil.OneLine(err.Error()))
}
