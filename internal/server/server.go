// Package server runs the registry's HTTP server: it wraps the OCI handler in
// request-id, access-log, metrics and recover middleware, adds /healthz,
// /readyz and /metrics, and shuts down gracefully. It never prints; it logs
// through an injected *slog.Logger.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainctl/chainctl/internal/metrics"
)

// Defaults for the options.
const (
	DefaultShutdownTimeout   = 2 * time.Minute
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	readyTimeout             = 5 * time.Second
)

// Pinger reports whether a dependency can serve requests; the metadata store
// is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Option configures a Server built by New.
type Option func(*Server)

// WithHandler sets the handler for /v2/ (the OCI API). Required.
func WithHandler(h http.Handler) Option { return func(s *Server) { s.api = h } }

// WithMetrics puts the server's metrics on reg, where the caller may
// register others (the background blob scrub's), all served at /metrics.
// Default: a registry of the server's own.
func WithMetrics(reg *metrics.Registry) Option { return func(s *Server) { s.metricsReg = reg } }

// WithAddr sets the host:port to listen on; default 127.0.0.1:5000.
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithTLS serves HTTPS with the PEM certificate and key in these files.
func WithTLS(certFile, keyFile string) Option {
	return func(s *Server) { s.certFile, s.keyFile = certFile, keyFile }
}

// WithLogger sets the logger for access logs and server errors.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithReadiness makes /readyz answer 503 unless p pings OK.
func WithReadiness(p Pinger) Option { return func(s *Server) { s.ready = p } }

// WithRouteName classifies /v2/ requests for the metrics' route label (such
// as registry.RouteName). It must return a small fixed set of names, never
// a repository name. Default: every /v2/ request is "v2".
func WithRouteName(f func(*http.Request) string) Option { return func(s *Server) { s.routeName = f } }

// WithShutdownTimeout bounds how long Run waits for in-flight requests after
// its context is cancelled; then it closes the remaining connections.
func WithShutdownTimeout(d time.Duration) Option { return func(s *Server) { s.shutdownTimeout = d } }

// WithListener serves on ln instead of listening on the configured
// address: the caller can then learn the bound address (port 0) before it
// builds what depends on it, such as its public URL.
func WithListener(ln net.Listener) Option { return func(s *Server) { s.preset = ln } }

// WithRoute serves h at path, beside the registry API: an exact path, or
// every path under it when path ends in "/". label names the route in
// metrics and logs. Routes are matched in the order given.
func WithRoute(path, label string, h http.Handler) Option {
	return func(s *Server) { s.routes = append(s.routes, extraRoute{path: path, label: label, h: h}) }
}

// extraRoute is a handler mounted with WithRoute.
type extraRoute struct {
	path  string
	label string
	h     http.Handler
}

func (e extraRoute) matches(p string) bool {
	if strings.HasSuffix(e.path, "/") {
		return strings.HasPrefix(p, e.path)
	}
	return p == e.path
}

// Server is the registry's HTTP server. Create it with New, then call Run.
type Server struct {
	api             http.Handler
	routes          []extraRoute
	addr            string
	certFile        string
	keyFile         string
	log             *slog.Logger
	accessLog       io.Writer // WithAccessLog
	lines           sync.Pool // *[]byte: access-log lines being written
	metricsReg      *metrics.Registry
	ready           Pinger
	routeName       func(*http.Request) string
	shutdownTimeout time.Duration
	bodyLimits      BodyLimits

	metrics  *serverMetrics
	handler  http.Handler
	draining atomic.Bool

	preset   net.Listener
	mu       sync.Mutex
	listener net.Listener
	tls      *tls.Config
}

// New returns a Server. It does not listen yet.
func New(opts ...Option) (*Server, error) {
	s := &Server{
		addr:            "127.0.0.1:5000",
		log:             slog.New(slog.DiscardHandler),
		routeName:       func(*http.Request) string { return "v2" },
		shutdownTimeout: DefaultShutdownTimeout,
	}
	for _, o := range opts {
		o(s)
	}
	if s.api == nil {
		return nil, errors.New("server: a /v2/ handler is required")
	}
	if (s.certFile == "") != (s.keyFile == "") {
		return nil, errors.New("server: TLS needs both a certificate and a key")
	}
	s.log = slog.New(LogHandler(s.log.Handler()))
	if s.metricsReg == nil {
		s.metricsReg = metrics.NewRegistry()
	}
	s.metrics = newMetrics(s.metricsReg, time.Now())
	s.handler = s.middleware(http.HandlerFunc(s.route))
	return s, nil
}

// Handler returns the server's whole HTTP handler, middleware included, for
// use with httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the address (and loads the TLS key pair), so that the caller
// can learn the bound address before serving: with port 0 the kernel picks
// it. Run calls Listen itself if the caller did not.
func (s *Server) Listen(ctx context.Context) (net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		return s.listener.Addr(), nil
	}
	if s.certFile != "" {
		cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS key pair: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if s.preset != nil {
		s.listener = s.preset
		return s.listener.Addr(), nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.listener = ln
	return ln.Addr(), nil
}

// URL returns the base URL clients use, such as http://127.0.0.1:5000, or ""
// before Listen.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	scheme := "http"
	if s.certFile != "" {
		scheme = "https"
	}
	return scheme + "://" + s.listener.Addr().String()
}

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections, /readyz turns 503, and in-flight requests get up to
// the shutdown timeout to finish before their connections are closed. It
// returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	if _, err := s.Listen(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	ln, tlsConf := s.listener, s.tls
	s.mu.Unlock()

	hs := &http.Server{
		Handler: s.handler,
		// Slow clients may not hold a connection open by trickling headers;
		// there is deliberately no ReadTimeout or WriteTimeout, which would
		// cut off large blob uploads and downloads.
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    1 << 20,
		TLSConfig:         tlsConf,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests must outlive ctx: cancelling it starts a graceful
		// shutdown, which lets them finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	s.draining.Store(true)
	s.log.Info("shutting down; waiting for in-flight requests", "timeout", s.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		<-errc
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.log.Info("shut down cleanly")
	return nil
}

// route dispatches by exact path. It does not use http.ServeMux, whose path
// cleaning would redirect odd /v2/ paths instead of letting the registry
// answer them with OCI errors.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/v2" || strings.HasPrefix(p, "/v2/"):
		s.api.ServeHTTP(w, r)
	case p == "/healthz":
		// Liveness: the process is up and serving.
		writeText(w, http.StatusOK, "ok\n")
	case p == "/readyz":
		s.serveReady(w, r)
	case p == "/metrics":
		s.metrics.handler.ServeHTTP(w, r)
	default:
		for _, e := range s.routes {
			if e.matches(p) {
				e.h.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeText(w, http.StatusServiceUnavailable, "shutting down\n")
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready.Ping(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "error", err.Error())
			writeText(w, http.StatusServiceUnavailable, "not ready\n")
			return
		}
	}
	writeText(w, http.StatusOK, "ok\n")
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
