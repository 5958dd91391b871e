package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink/eventsinktest"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdListen(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		output       cmdutil.OutputFormat
		env          map[string]string
		wantAddr     string
		wantSink     string
		wantRegistry string
		wantJSON     bool
		wantErr      string
	}{
		{name: "defaults", wantAddr: DefaultAddr, wantRegistry: apitest.URL},
		{name: "every flag", args: []string{"--addr", "127.0.0.1:0", "--sink-url", "https://hook.example.com/x", "--registry", "127.0.0.1:5000"},
			wantAddr: "127.0.0.1:0", wantSink: "https://hook.example.com/x", wantRegistry: "http://127.0.0.1:5000"},
		{name: "registry from the environment, json", env: map[string]string{"CHAINCTL_REGISTRY": "r.example.com"}, output: cmdutil.OutputJSON,
			wantAddr: DefaultAddr, wantRegistry: "https://r.example.com", wantJSON: true},
		{name: "every address needs the sink URL", args: []string{"--addr", ":8080"}, wantErr: `--addr ":8080" listens on every address: give --sink-url`},
		{name: "every address, IPv6", args: []string{"--addr", "[::]:8080"}, wantErr: "listens on every address"},
		{name: "every address with the sink URL", args: []string{"--addr", "0.0.0.0:8080", "--sink-url", "https://h.example.com/"},
			wantAddr: "0.0.0.0:8080", wantSink: "https://h.example.com/", wantRegistry: apitest.URL},
		{name: "no port", args: []string{"--addr", "127.0.0.1"}, wantErr: `--addr "127.0.0.1": want HOST:PORT`},
		{name: "relative sink URL", args: []string{"--sink-url", "/hook"}, wantErr: `--sink-url "/hook": want an absolute http(s) URL`},
		{name: "argument", args: []string{"x"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ListenOptions
			cmd := NewCmdListen(apitest.Factory(ios, tt.output, tt.env), func(_ context.Context, o *ListenOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				var fe *cmdutil.FlagError
				if !strings.Contains(tt.wantErr, "unknown") && !errors.As(err, &fe) {
					t.Errorf("Execute(%q) = %T, want a *cmdutil.FlagError", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if got.Addr != tt.wantAddr || got.SinkURL != tt.wantSink || got.Registry != tt.wantRegistry || got.JSON != tt.wantJSON {
				t.Errorf("Addr, SinkURL, Registry, JSON = %q, %q, %q, %v, want %q, %q, %q, %v",
					got.Addr, got.SinkURL, got.Registry, got.JSON, tt.wantAddr, tt.wantSink, tt.wantRegistry, tt.wantJSON)
			}
		})
	}
}

// listener runs listenRun against the issuer's registry on a loopback
// port, until stop is called; stop returns listenRun's error.
type listener struct {
	addr      string // host:port listened on
	sink      string
	out, errs *bytes.Buffer
	stop      func() error
}

func startListener(t *testing.T, registry string, tty bool, sinkURL string) *listener {
	t.Helper()
	return startListenerWith(t, registry, tty, sinkURL, nil)
}

// startListenerWith is startListener with options changed by change.
func startListenerWith(t *testing.T, registry string, tty bool, sinkURL string, change func(*ListenOptions)) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetNoColor(true) // a terminal's lines, compared as text
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	opts := &ListenOptions{IO: ios, HTTPClient: func() (*http.Client, error) { return &http.Client{Timeout: 5 * time.Second}, nil },
		Registry: registry, Addr: ln.Addr().String(), SinkURL: sinkURL, Listener: ln, Location: time.UTC}
	if change != nil {
		change(opts)
	}
	go func() { done <- listenRun(ctx, opts) }()
	l := &listener{addr: ln.Addr().String(), sink: "http://" + ln.Addr().String() + "/", out: out, errs: errOut}
	if sinkURL != "" {
		l.sink = sinkURL
	}
	var stopped bool
	l.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("listenRun did not return after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { _ = l.stop() })
	return l
}

// post sends d to the listener at addr and returns the answer.
func post(t *testing.T, addr string, d *eventsinktest.Delivery) (int, string) {
	t.Helper()
	r := d.Request(t)
	r.URL.Scheme, r.URL.Host = "http", addr
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func Test_listenRun(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	for _, tty := range []bool{false, true} {
		name := "json lines"
		if tty {
			name = "terminal"
		}
		t.Run(name, func(t *testing.T) {
			l := startListener(t, is.URL, tty, "")
			addr := l.addr
			when := time.Date(2026, 12, 7, 14, 0, 1, 0, time.UTC)
			now := time.Now()

			push := is.Delivery(t, l.sink, events.TypePush, eventsinktest.PushData(when), now)
			pullData := eventsinktest.PushData(when.Add(time.Second))
			pullData.Method, pullData.Tag, pullData.Actor = http.MethodGet, "", events.Actor{PullToken: "pt-abcdefghijklmnopqrst"}
			pullData.Error = &events.Error{Status: 404, Code: "MANIFEST_UNKNOWN", Message: "manifest unknown\x1b[2J"}
			pull := is.Delivery(t, l.sink, events.TypePull, pullData, now)

			expired := is.Delivery(t, l.sink, events.TypePush, eventsinktest.PushData(when), now.Add(-time.Hour))
			otherSink := is.Delivery(t, "http://127.0.0.1:1/", events.TypePush, eventsinktest.PushData(when), now)
			tampered := is.Delivery(t, l.sink, events.TypePush, eventsinktest.PushData(when), now)
			tampered.Body = bytes.Replace(tampered.Body, []byte(`"alice"`), []byte(`"mallory"`), 1)
			noEvent := is.Delivery(t, l.sink, events.TypePush, eventsinktest.PushData(when), now)
			noEvent.Header.Del("Ce-Id")

			for _, c := range []struct {
				name   string
				d      *eventsinktest.Delivery
				status int
				body   string
			}{
				{"push", push, 204, ""},
				{"expired", expired, 401, "token expired\n"},
				{"for another sink", otherSink, 401, "token for another sink\n"},
				{"body altered", tampered, 401, "body does not match the token's digest\n"},
				{"not an event", noEvent, 400, "invalid CloudEvent\n"},
				{"failed pull", pull, 204, ""},
			} {
				if status, body := post(t, addr, c.d); status != c.status || body != c.body {
					t.Errorf("%s: answered %d %q, want %d %q", c.name, status, body, c.status, c.body)
				}
			}
			if err := l.stop(); err != nil {
				t.Fatalf("listenRun() = %v, want nil after the context ended", err)
			}

			stdout, stderr := l.out.String(), l.errs.String()
			if tty {
				want := "2026-12-07 14:00:01  push  acme/app:v1  alice (alice@example.com)  ok\n" +
					"2026-12-07 14:00:02  pull  acme/app@sha256:0000000000000000000000000000000000000000000000000000000000000000  " +
					"pull token pt-abcdefghijklmnopqrst  failed: 404 MANIFEST_UNKNOWN manifest unknown [2J\n"
				if stdout != want {
					t.Errorf("stdout =\n%s\nwant\n%s", stdout, want)
				}
			} else {
				lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				if len(lines) != 2 {
					t.Fatalf("stdout has %d lines, want 2 events:\n%s", len(lines), stdout)
				}
				for i, want := range []struct{ typ, subject, method string }{
					{events.TypePush, "acme/app:v1", "PUT"},
					{events.TypePull, "acme/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "GET"},
				} {
					var ev struct {
						SpecVersion, ID, Source, Type, Subject, Time string
						Data                                         events.Data
					}
					if err := json.Unmarshal([]byte(lines[i]), &ev); err != nil {
						t.Fatalf("line %d is not JSON: %v: %s", i, err, lines[i])
					}
					if ev.SpecVersion != "1.0" || ev.ID == "" || ev.Source != is.URL || ev.Type != want.typ || ev.Subject != want.subject ||
						ev.Time == "" || ev.Data.Method != want.method || ev.Data.Repository != "acme/app" {
						t.Errorf("line %d = %s, want the %s event of %s", i, lines[i], want.typ, want.subject)
					}
				}
			}
			for _, want := range []string{
				"Listening on " + l.sink + " for events of " + is.URL + "; Ctrl-C stops.\n",
				"  chainctl events subscriptions create " + l.sink + " --registry " + is.URL + " --type push,pull --repository PATTERN\n",
				": 401 token expired\n",
				": 401 token for another sink\n",
				": 401 body does not match the token's digest\n",
				": 400 invalid CloudEvent\n",
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			for _, d := range []*eventsinktest.Delivery{push, pull, expired, otherSink, tampered} {
				if strings.Contains(stdout+stderr, d.Token) {
					t.Errorf("a token was printed")
				}
			}
		})
	}
}

// Test_listenRunSinkURL: with --sink-url, tokens must be for that URL, not
// for the address listened on.
func Test_listenRunSinkURL(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	const public = "https://hooks.example.com/registry"
	l := startListener(t, is.URL, false, public)
	now := time.Now()
	good := is.Delivery(t, public, events.TypePush, eventsinktest.PushData(now), now)
	local := is.Delivery(t, public, events.TypePush, eventsinktest.PushData(now), now)
	local.Claims.Audience = jwt.Audience{"http://127.0.0.1/"}
	local.Token = eventsinktest.Sign(t, is.SigningKey(), local.Claims)
	addr := l.addr
	if status, body := post(t, addr, good); status != 204 {
		t.Errorf("delivery for the sink URL: %d %q, want 204", status, body)
	}
	if status, body := post(t, addr, local); status != 401 || body != "token for another sink\n" {
		t.Errorf("delivery for the local address: %d %q, want 401 token for another sink", status, body)
	}
	if err := l.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(l.errs.String(), "Listening on "+public+" for events") {
		t.Errorf("stderr = %q, want the sink URL announced", l.errs)
	}
}

func Test_listenRunRegistryDown(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	registry := "http://" + dead.Addr().String()
	dead.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	err = listenRun(t.Context(), &ListenOptions{IO: ios, Registry: registry, Addr: ln.Addr().String(), Listener: ln})
	var he *cmdutil.HintError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "fetch the registry's signing keys") ||
		!strings.Contains(he.Hint, registry+"/.well-known/openid-configuration") {
		t.Errorf("listenRun() = %v, want the fetch error with a hint naming the discovery document", err)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q", out)
	}
	// The listener was closed: the port is free again.
	if again, err := net.Listen("tcp", ln.Addr().String()); err != nil {
		t.Errorf("listen again on %s: %v", ln.Addr(), err)
	} else {
		again.Close()
	}
}

func Test_listenRunRegistryURL(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	err := listenRun(t.Context(), &ListenOptions{IO: ios, Registry: "http://registry.example.com", Addr: DefaultAddr})
	if err == nil || !strings.Contains(err.Error(), "plain http is only allowed to a loopback host") {
		t.Errorf("listenRun() = %v, want plain http refused before anything listens", err)
	}
}
