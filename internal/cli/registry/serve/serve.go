// Package serve is the `chainctl registry serve` command.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/egress"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/logbuf"
	"github.com/chainctl/chainctl/internal/metrics"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/schedwait"
	"github.com/chainctl/chainctl/internal/server"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/store"
)

// ServeOptions are the inputs of `chainctl registry serve`.
type ServeOptions struct {
	IO     *iostreams.IOStreams
	Config *config.Serve
	Debug  bool

	// onListen, when set, gets the registry's URL once it accepts
	// connections (tests listen on port 0 and need to know the port).
	onListen func(url string)
}

// NewCmdServe returns `chainctl registry serve`. runF replaces serveRun in
// tests.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the OCI registry",
		Long: cmdutil.Heredoc(`
			Run an OCI Distribution v1.1 container registry until interrupted.

			With no configuration it listens on 127.0.0.1:5000 (this machine only) and
			keeps everything in one data directory: blobs under <data-dir>/blobs and
			metadata in the SQLite database <data-dir>/registry.db. The data directory
			defaults to $XDG_DATA_HOME/chainctl or ~/.local/share/chainctl on Linux,
			~/Library/Application Support/chainctl on macOS and %LocalAppData%\chainctl
			on Windows.

			Every flag can also be set with a CHAINCTL_ environment variable (--data-dir
			is CHAINCTL_DATA_DIR) or as a snake_case key of the YAML file given with
			--config (data_dir: /srv/chainctl). A flag beats the environment, which beats
			the file. Every problem of the configuration is reported at once.
			docs/configuration.md describes every setting.

			Nobody has a password. Every request needs a bearer access token of a few
			minutes from the registry's token service (/token, Docker token
			authentication), except pulls of auth.public_repositories. Clients get one
			by presenting an OIDC token that a configured identity accepts (a CI job's
			token, a person's login) or a session token exchanged for one at
			/oauth/token. Without identities nothing can be pushed; the auth section of
			docs/configuration.md explains them.

			--dev adds a development identity provider on loopback whose user owns every
			repository. "chainctl auth login --dev" logs in as that user with no browser;
			a session for the user is also written to <data-dir>/dev-session-token (mode
			0600) for scripts.

			Besides the OCI API under /v2/ and the token endpoints, the server answers
			/.well-known/openid-configuration and its JWKS, /healthz (liveness),
			/readyz (200 when the metadata store answers, 503 otherwise) and /metrics
			(Prometheus). Request logs go to stderr: text on a terminal, JSON lines
			otherwise; --debug adds detail.

			On SIGINT or SIGTERM the server stops accepting connections and waits for
			requests in flight (up to two minutes) before it exits; a second signal
			exits at once.
		`),
		Example: cmdutil.Examples(`
			# Try it on one machine: dev mode, then push with crane
			$ chainctl registry serve --dev
			$ chainctl auth login --dev --registry localhost:5000
			$ chainctl auth configure-docker localhost:5000
			$ crane copy alpine:latest localhost:5000/alpine:latest

			# Listen on every interface, with HTTPS, data on a dedicated disk
			$ chainctl registry serve --listen :443 --data-dir /srv/chainctl \
			    --tls-cert /etc/chainctl/cert.pem --tls-key /etc/chainctl/key.pem

			# The same through the environment and a file
			$ CHAINCTL_LISTEN=:5000 chainctl registry serve --config /etc/chainctl/serve.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cmdutil.LoadServeConfig(f, cmd.Flags())
			if err != nil {
				return err
			}
			opts.Config = cfg
			opts.Debug = f.Globals.Debug
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	config.AddServeFlags(cmd.Flags())
	_ = cmd.MarkFlagFilename(config.KeyConfig, "yaml", "yml")
	_ = cmd.MarkFlagDirname(config.KeyDataDir)
	_ = cmd.MarkFlagFilename(config.KeyTLSCert)
	_ = cmd.MarkFlagFilename(config.KeyTLSKey)
	_ = cmd.RegisterFlagCompletionFunc(config.KeyListen, cobra.FixedCompletions(
		[]string{"127.0.0.1:5000", ":5000", "0.0.0.0:5000"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func serveRun(ctx context.Context, opts *ServeOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := opts.Config
	log, accessLog := newLogger(opts)
	if c, ok := log.Handler().(interface{ Close() error }); ok {
		defer c.Close()
	}

	blobs, err := backend.OpenStorage(ctx, cfg.Storage, backend.StorageOwner, log)
	if err != nil {
		return err
	}
	meta, err := backend.OpenMetadata(ctx, cfg.Database, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := meta.Close(); err != nil {
			log.Error("close metadata database", "error", err.Error())
		}
	}()

	// Listen first: with port 0 the public URL (token realm, issuer) is
	// known only once the kernel has picked the port.
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &cmdutil.HintError{Err: err, Hint: fmt.Sprintf(
				"another process uses %s; choose another address with --listen or %s",
				cfg.Listen, config.EnvName(config.KeyListen))}
		}
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	externalURL := publicURL(cfg, ln.Addr())
	if externalURL != cfg.ExternalURL {
		// Port 0 resolved: a service name derived from the URL follows it.
		if old, err := url.Parse(cfg.ExternalURL); err == nil && cfg.Auth.Service == old.Host {
			resolved := *cfg
			resolved.Auth.Service = strings.TrimPrefix(strings.TrimPrefix(externalURL, "http://"), "https://")
			cfg = &resolved
		}
	}
	subs := events.NewSubscriptions(meta, cfg.Events.AllowPrivateSinks)
	if cfg.Dev {
		subs.AllowLoopbackSinks()
	}
	if err := subs.Refresh(ctx, true); err != nil {
		return fmt.Errorf("event subscriptions: %w", err)
	}
	authn, err := buildAuth(ctx, cfg, externalURL, meta, subs, log)
	if err != nil {
		return err
	}

	blobURL, err := backend.BlobURL(cfg.Blobs, blobs, authn.service.PublicPull)
	if err != nil {
		return err
	}
	// Pull and failure events are written in batches until the server has
	// drained its last request, then flushed: the recorder outlives ctx.
	rec := events.NewRecorder(meta, externalURL, events.WithLogger(log), events.WithBlobPulls(cfg.Events.BlobPulls),
		events.WithSubscriptions(subs))
	recCtx, stopRecorder := context.WithCancel(context.WithoutCancel(ctx))
	recorded := make(chan struct{})
	go func() { rec.Run(recCtx); close(recorded) }()
	defer func() { stopRecorder(); <-recorded }()
	regOpts := []registry.Option{
		registry.WithEvents(rec),
		registry.WithTagHistory(events.NewLog(meta)),
		registry.WithBlobStore(blobs),
		registry.WithMetadata(meta),
		registry.WithLogger(log),
		registry.WithAuthorizer(authn.service),
		registry.WithBlobURL(blobURL),
		registry.WithUploadCaps(store.UploadCaps{PerOwner: cfg.Limits.MaxUploadsPerPrincipal, PerRepository: cfg.Limits.MaxUploadsPerRepo}),
	}
	check, err := newBlobCheck(blobs, log)
	if err != nil {
		return err
	}
	if check != nil {
		// File storage: the bytes are checked at rest, and pulls are sent
		// as stored (sendfile) unless a crash left them unchecked.
		defer check.close(log)
		regOpts = append(regOpts, registry.WithBlobsCheckedAtRest(check.checked.Load))
	}
	api, err := registry.New(regOpts...)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	sopts := []server.Option{
		server.WithMetrics(reg),
		server.WithHandler(api),
		server.WithListener(ln),
		server.WithLogger(log),
		server.WithAccessLog(accessLog),
		server.WithReadiness(meta),
		server.WithRouteName(registry.RouteName),
		server.WithBodyLimits(server.BodyLimits{IdleTimeout: cfg.Limits.BodyIdleTimeout, MinRate: cfg.Limits.BodyMinRate}),
	}
	sopts = append(sopts, authn.routes...)
	if cfg.TLS.Enabled() {
		sopts = append(sopts, server.WithTLS(cfg.TLS.CertFile, cfg.TLS.KeyFile))
	}
	srv, err := server.New(sopts...)
	if err != nil {
		return err
	}
	if _, err := srv.Listen(ctx); err != nil {
		return err
	}
	var devSession string
	if cfg.Dev {
		dir := cfg.DataDir
		if dir == "" {
			dir = filepath.Dir(cfg.Database.Path)
		}
		if devSession, err = writeDevSession(ctx, authn, dir, cfg.Auth.MaxSessionTTL); err != nil {
			return fmt.Errorf("dev mode: write the development session: %w", err)
		}
	}
	printBanner(opts.IO, log, srv.URL(), cfg)
	printAuthNotes(opts.IO, log, cfg, externalURL, devSession)
	if opts.onListen != nil {
		opts.onListen(srv.URL())
	}

	// After the first signal, restore the default handling so that a
	// second one ends the process without waiting for the drain.
	go func() {
		<-ctx.Done()
		stop()
	}()
	var background sync.WaitGroup
	uploadTTL := cfg.Blobs.UploadTTL
	if uploadTTL <= 0 {
		uploadTTL = config.DefaultUploadTTL
	}
	background.Go(func() { purgeUploads(ctx, log, blobs, meta, uploadTTL) })
	background.Go(func() { rotateKeys(ctx, log, authn.issuer) })
	background.Go(func() { purgeEvents(ctx, log, meta, cfg.Events.Retention) })
	if check != nil {
		m := newScrubMetrics(reg)
		background.Go(func() { check.run(ctx, log, cfg.Blobs, m) })
	}
	background.Go(func() {
		// Deliveries yield while requests wait for a CPU.
		events.NewDispatcher(meta, authn.issuer, sinkTransport(cfg), events.WithDispatchLogger(log),
			events.WithRetryFor(cfg.Events.RetryFor), events.WithYield(schedwait.New().Busy)).Run(ctx)
	})
	defer background.Wait()
	return srv.Run(ctx)
}

// logFlushInterval is how often batched log lines are written out when
// stderr is not a terminal (see logbuf): an access-log line per request
// would otherwise cost a write(2) each.
const logFlushInterval = 100 * time.Millisecond

// newLogger returns the server's logger. On a terminal every line is
// written at once; otherwise (JSON lines for a collector) lines are
// batched and written every logFlushInterval, warnings and errors at once,
// and all at shutdown, when the returned logger's handler is closed. The
// access log is where the server may write its JSON lines itself
// (server.WithAccessLog): the batching writer of JSON lines, or nil on a
// terminal.
func newLogger(opts *ServeOptions) (log *slog.Logger, accessLog io.Writer) {
	tty := opts.IO.IsStderrTTY()
	if tty {
		return slog.New(server.LogHandler(cmdutil.NewLogger(opts.IO.ErrOut, true, opts.Debug).Handler())), nil
	}
	w := logbuf.New(opts.IO.ErrOut, logFlushInterval)
	h := logbuf.Handler(cmdutil.NewLogger(w, false, opts.Debug).Handler(), w, slog.LevelWarn)
	return slog.New(closingHandler{Handler: server.LogHandler(h), close: w.Close}), w
}

// closingHandler carries the Close of the log's batching writer.
type closingHandler struct {
	slog.Handler
	close func() error
}

// Close flushes the batched lines and stops flushing periodically.
func (h closingHandler) Close() error { return h.close() }

// sinkTransport is how event deliveries reach sinks: never through a
// proxy from the environment, and only to public addresses, checked at
// each connection after DNS (egress.PublicOnly), unless private sinks are
// allowed; in --dev, which binds to loopback, to any address (sinks are
// limited to public ones and loopback when created).
func sinkTransport(cfg *config.Serve) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	// The default keeps two idle connections a host: a subscription's
	// attempts in flight would close and dial the rest for every event.
	t.MaxIdleConnsPerHost = 2 * events.InFlight
	if cfg.Events.AllowPrivateSinks || cfg.Dev {
		return t
	}
	return egress.PublicOnly(t)
}

// purgeEvents removes events older than retention from the event log at
// start and then every purgeInterval, until ctx ends.
func purgeEvents(ctx context.Context, log *slog.Logger, meta store.Events, retention time.Duration) {
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		n, err := meta.PurgeEvents(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("purge events", "error", err.Error())
		case n > 0:
			log.Info("purged events", "count", n, "older_than", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purgeInterval is how often abandoned uploads (a push killed midway) are
// looked for; they are discarded after the upload-ttl setting.
const purgeInterval = time.Hour

// staleAborter is a blob store that keeps upload state of its own outside
// the metadata (S3 multipart uploads), which it can expire itself.
type staleAborter interface {
	AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error)
}

// purgeUploads discards abandoned upload sessions at start and then
// periodically, until ctx ends.
func purgeUploads(ctx context.Context, log *slog.Logger, blobs storage.UploadStore, meta store.Uploads, ttl time.Duration) {
	t := time.NewTicker(min(purgeInterval, ttl))
	defer t.Stop()
	for {
		n, err := registry.PurgeUploads(ctx, blobs, meta, time.Now().Add(-ttl))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("purge abandoned uploads", "error", err.Error())
		case n > 0:
			log.Info("purged abandoned uploads", "count", n, "older_than", ttl.String())
		}
		if a, ok := blobs.(staleAborter); ok {
			// Multipart uploads no session names any more (a replica died
			// between creating one and recording it): abort them too.
			if n, err := a.AbortStaleUploads(ctx, ttl); err != nil && ctx.Err() == nil {
				log.Warn("abort stale multipart uploads", "error", err.Error())
			} else if n > 0 {
				log.Info("aborted stale multipart uploads", "count", n, "older_than", ttl.String())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// publicURL is the configured external URL or, when that was derived from
// a listen address with port 0, the address actually bound.
func publicURL(cfg *config.Serve, addr net.Addr) string {
	u, err := url.Parse(cfg.ExternalURL)
	if err != nil || u.Port() != "0" {
		return cfg.ExternalURL
	}
	u.Host = addr.String()
	return u.String()
}

// printAuthNotes says how clients authenticate: loudly in dev mode, and as
// a warning when no identity can push anything.
func printAuthNotes(ios *iostreams.IOStreams, log *slog.Logger, cfg *config.Serve, externalURL, devSession string) {
	var msg string
	switch {
	case cfg.Dev:
		host := strings.TrimPrefix(strings.TrimPrefix(externalURL, "http://"), "https://")
		msg = "DEVELOPMENT MODE: the built-in identity provider at " + externalURL + "/dev-idp logs in anyone who can reach this machine's loopback as the owner of every repository. Never expose it. " +
			"Log in as the development user, with no browser: chainctl auth login --dev --registry " + loopbackName(host) +
			" (a session for scripts is in " + devSession + ")"
	case len(cfg.Auth.Identities) == 0:
		msg = "no identities are configured: nothing can be pushed, and only public repositories can be pulled. Configure auth.identities (docs/configuration.md) or try --dev."
	default:
		return
	}
	if !ios.IsStderrTTY() {
		log.Warn(msg)
		return
	}
	fmt.Fprintln(ios.ErrOut, ios.ErrStyles().Warning("! "+msg))
}

// loopbackName is host with 127.0.0.1 written as localhost, the name that
// docker, crane and oras reach over plain HTTP without flags (and that
// the registry then names in its token realm too: see auth.WithRealm).
func loopbackName(host string) string {
	if h, port, err := net.SplitHostPort(host); err == nil && h == "127.0.0.1" {
		return net.JoinHostPort("localhost", port)
	}
	return host
}

// printBanner says, in one line on stderr, where the registry listens and
// where its data lives: styled on a terminal, and as a log record (JSON)
// when stderr goes to a log collector, so that stream stays parseable.
func printBanner(ios *iostreams.IOStreams, log *slog.Logger, url string, cfg *config.Serve) {
	where := ""
	if cfg.DataDir != "" {
		where = " · data in " + cfg.DataDir
	}
	details := fmt.Sprintf("(blobs: %s, metadata: %s)", cfg.Storage, cfg.Database)
	if !ios.IsStderrTTY() {
		log.Info(fmt.Sprintf("chainctl registry listening on %s%s %s", url, where, details),
			"url", url, "data_dir", cfg.DataDir, "storage", cfg.Storage.String(), "database", cfg.Database.String())
		return
	}
	st := ios.ErrStyles()
	if cfg.DataDir != "" {
		where = " · data in " + st.Code(cfg.DataDir)
	}
	fmt.Fprintf(ios.ErrOut, "%s %s%s %s\n",
		st.Bold("chainctl registry listening on"), st.Code(url), where, st.Faint(details))
}
