package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakePinger is ready while its error is nil.
type fakePinger struct {
	mu  sync.Mutex
	err error
}

func (p *fakePinger) Ping(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *fakePinger) set(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// api is a stand-in for the registry handler.
func api() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			_, _ = io.WriteString(w, "{}")
		case "/v2/panic/manifests/latest":
			panic("boom")
		case "/v2/panic-late/blobs/sha256:x":
			_, _ = io.WriteString(w, "partial")
			panic("late boom")
		case "/v2/echo/blobs/uploads/":
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write(b)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

func routeName(r *http.Request) string {
	switch {
	case r.URL.Path == "/v2/":
		return "base"
	case strings.Contains(r.URL.Path, "/manifests/"):
		return "manifest"
	case strings.Contains(r.URL.Path, "/blobs/uploads/"):
		return "upload"
	case strings.Contains(r.URL.Path, "/blobs/"):
		return "blob"
	}
	return "unknown"
}

func newTestServer(t *testing.T, opts ...Option) (*Server, *httptest.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]Option{
		WithHandler(api()),
		WithRouteName(routeName),
		WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}, opts...)
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, logs
}

func do(t *testing.T, method, url string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServerRoutes(t *testing.T) {
	_, ts, _ := newTestServer(t)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{name: "base", method: "GET", path: "/v2/", wantStatus: 200, wantBody: "{}"},
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: "ok\n"},
		{name: "readyz without a pinger", method: "GET", path: "/readyz", wantStatus: 200, wantBody: "ok\n"},
		{name: "unknown path", method: "GET", path: "/nope", wantStatus: 404},
		{name: "odd v2 path is not redirected", method: "GET", path: "/v2/a//b/../manifests/x", wantStatus: 404},
		{name: "upload body", method: "POST", path: "/v2/echo/blobs/uploads/", body: "hello", wantStatus: 202, wantBody: "hello"},
		{name: "panic", method: "GET", path: "/v2/panic/manifests/latest", wantStatus: 500, wantBody: unknownErrorBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, ts.URL+tt.path, strings.NewReader(tt.body), nil)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("%s %s body = %q, want %q", tt.method, tt.path, body, tt.wantBody)
			}
			if resp.Header.Get(RequestIDHeader) == "" {
				t.Errorf("%s %s: no %s header", tt.method, tt.path, RequestIDHeader)
			}
		})
	}
}

func TestRecover(t *testing.T) {
	_, ts, logs := newTestServer(t)
	resp, body := do(t, "GET", ts.URL+"/v2/panic/manifests/latest", nil, nil)
	if resp.StatusCode != 500 || body != unknownErrorBody {
		t.Errorf("GET panic = %d %q, want 500 %q", resp.StatusCode, body, unknownErrorBody)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if strings.Contains(body, "boom") {
		t.Errorf("body %q leaks the panic value", body)
	}
	for _, want := range []string{`"panic":"boom"`, `"stack":"goroutine`, `"status":500`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not contain %s:\n%s", want, logs)
		}
	}

	// A panic after the response started aborts the connection: the client
	// sees an error, not a short body that looks whole.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/v2/panic-late/blobs/sha256:x", nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Errorf("GET panic-late: no error, want the connection aborted")
	}
	if !strings.Contains(logs.String(), `"panic":"late boom"`) {
		t.Errorf("logs do not contain the late panic:\n%s", logs)
	}
}

func TestRequestID(t *testing.T) {
	_, ts, logs := newTestServer(t)
	tests := []struct {
		name    string
		send    string
		keep    bool
		wantLen int
	}{
		{name: "kept from client", send: "abc-123", keep: true},
		{name: "generated when absent", send: "", wantLen: 32},
		{name: "replaced when too long", send: strings.Repeat("a", 200), wantLen: 32},
		{name: "replaced when it has spaces", send: "a b", wantLen: 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.send != "" {
				h.Set(RequestIDHeader, tt.send)
			}
			resp, _ := do(t, "GET", ts.URL+"/v2/", nil, h)
			got := resp.Header.Get(RequestIDHeader)
			if tt.keep && got != tt.send {
				t.Errorf("%s = %q, want %q", RequestIDHeader, got, tt.send)
			}
			if !tt.keep && len(got) != tt.wantLen {
				t.Errorf("%s = %q, want a generated id of %d characters", RequestIDHeader, got, tt.wantLen)
			}
			if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
				t.Errorf("access log lacks request_id %q", got)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	_, ts, logs := newTestServer(t)
	h := http.Header{}
	h.Set("Authorization", "Bearer sekrit-token")
	h.Set("User-Agent", "test-agent/1")
	do(t, "POST", ts.URL+"/v2/echo/blobs/uploads/?token=sekrit-query", strings.NewReader("12345"), h)
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"route":"upload"`) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no access log line for the upload:\n%s", logs)
	}
	for _, want := range []string{`"method":"POST"`, `"path":"/v2/echo/blobs/uploads/"`, `"status":202`,
		`"bytes_in":5`, `"bytes_out":5`, `"user_agent":"test-agent/1"`, `"remote_addr":"127.0.0.1:`, `"duration":`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %s lacks %s", line, want)
		}
	}
	if strings.Contains(logs.String(), "sekrit") {
		t.Errorf("logs leak a credential:\n%s", logs)
	}
}

func TestMetrics(t *testing.T) {
	_, ts, _ := newTestServer(t)
	for range 3 {
		do(t, "GET", ts.URL+"/v2/", nil, nil)
	}
	do(t, "POST", ts.URL+"/v2/echo/blobs/uploads/", strings.NewReader("hello"), nil)
	do(t, "GET", ts.URL+"/v2/panic/manifests/latest", nil, nil)
	do(t, "GET", ts.URL+"/healthz", nil, nil)
	do(t, "BREW", ts.URL+"/elsewhere", nil, nil)

	resp, body := do(t, "GET", ts.URL+"/metrics", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	tests := []struct {
		name string
		want string
	}{
		{"requests by route", `chainctl_http_requests_total{method="GET",route="base",status="200"} 3`},
		{"upload status", `chainctl_http_requests_total{method="POST",route="upload",status="202"} 1`},
		{"panic counted as 500", `chainctl_http_requests_total{method="GET",route="manifest",status="500"} 1`},
		{"health route", `chainctl_http_requests_total{method="GET",route="healthz",status="200"} 1`},
		{"bounded method and route", `chainctl_http_requests_total{method="OTHER",route="other",status="404"} 1`},
		{"latency histogram", `chainctl_http_request_duration_seconds_count{method="GET",route="base"} 3`},
		{"request bytes", `chainctl_http_request_bytes_total{route="upload"} 5`},
		{"response bytes", `chainctl_http_response_bytes_total{route="base"} 6`},
		{"go collector", "go_goroutines "},
		{"process collector", "process_start_time_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(body, tt.want) {
				t.Errorf("/metrics lacks %q", tt.want)
			}
		})
	}
}

func TestTwoServersDoNotShareMetrics(t *testing.T) {
	_, ts1, _ := newTestServer(t)
	_, ts2, _ := newTestServer(t)
	do(t, "GET", ts1.URL+"/v2/", nil, nil)
	_, body := do(t, "GET", ts2.URL+"/metrics", nil, nil)
	if strings.Contains(body, `route="base"`) {
		t.Errorf("second server's /metrics counts the first server's request")
	}
}

func TestReadyz(t *testing.T) {
	p := &fakePinger{}
	_, ts, _ := newTestServer(t, WithReadiness(p))
	steps := []struct {
		name string
		err  error
		want int
	}{
		{name: "store up", want: 200},
		{name: "store down", err: errors.New("database is locked"), want: 503},
		{name: "store back", want: 200},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			p.set(st.err)
			resp, body := do(t, "GET", ts.URL+"/readyz", nil, nil)
			if resp.StatusCode != st.want {
				t.Errorf("GET /readyz = %d, want %d", resp.StatusCode, st.want)
			}
			if strings.Contains(body, "locked") {
				t.Errorf("GET /readyz body %q leaks the cause", body)
			}
			if resp, _ := do(t, "GET", ts.URL+"/healthz", nil, nil); resp.StatusCode != 200 {
				t.Errorf("GET /healthz = %d, want 200 whatever the store does", resp.StatusCode)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{name: "no handler", opts: nil},
		{name: "cert without key", opts: []Option{WithHandler(api()), WithTLS("c.pem", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts...); err == nil {
				t.Errorf("New() = nil error, want one")
			}
		})
	}
}

// TestGracefulShutdown cancels Run while a slow request is in flight: the
// request completes, new connections are refused, and Run returns nil.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var served atomic.Int32
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/slow" {
			close(started)
			<-release
		}
		served.Add(1)
		_, _ = io.WriteString(w, "done")
	})
	s, err := New(WithHandler(slow), WithAddr("127.0.0.1:0"), WithShutdownTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen(t.Context())
	if err != nil {
		t.Fatalf("Listen() = %v", err)
	}
	if want := "http://" + addr.String(); s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	type result struct {
		body string
		err  error
	}
	slowResult := make(chan result, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/v2/slow")
		if err != nil {
			slowResult <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slowResult <- result{string(b), err}
	}()
	<-started
	cancel()

	// Shutdown closes the listener first; wait for that, then check that
	// the slow request is still being waited for.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(s.URL() + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-runErr:
		t.Fatalf("Run returned %v before the in-flight request finished", err)
	default:
	}

	close(release)
	if r := <-slowResult; r.err != nil || r.body != "done" {
		t.Errorf("slow request = %q, %v, want %q", r.body, r.err, "done")
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run() = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the last request finished")
	}
}

// TestShutdownTimeout: a request that outlives the timeout is cut off and Run
// reports it.
func TestShutdownTimeout(t *testing.T) {
	started := make(chan struct{})
	stuck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	s, err := New(WithHandler(stuck), WithAddr("127.0.0.1:0"), WithShutdownTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	go func() {
		resp, err := http.Get(s.URL() + "/v2/stuck")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-runErr:
		if err == nil || !strings.Contains(err.Error(), "graceful shutdown") {
			t.Errorf("Run() = %v, want a graceful shutdown error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the shutdown timeout")
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	h := LogHandler(slog.NewJSONHandler(&buf, nil))
	if LogHandler(h) != h {
		t.Errorf("LogHandler(LogHandler(h)) wraps twice")
	}
	log := slog.New(h).With("component", "registry")
	ctx := context.WithValue(t.Context(), requestIDKey{}, "req-1")
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{name: "request context", ctx: ctx, want: true},
		{name: "other context", ctx: t.Context(), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			log.ErrorContext(tt.ctx, "store failed")
			if got := strings.Contains(buf.String(), `"request_id":"req-1"`); got != tt.want {
				t.Errorf("log line %s has request_id: %v, want %v", buf.String(), got, tt.want)
			}
		})
	}
}
