package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// tinyConfig is -quick made smaller still: the test checks the protocol
// code, never timings.
func tinyConfig() config {
	c := quickConfig()
	c.blobSize, c.chunkSize = 3<<20+12345, 1<<20 // an odd size: the last chunk is short
	c.images, c.tags = 3, 20
	c.concurrency, c.tagsConcurrency = 4, 2
	c.blobGetSize = 64<<10 + 7
	c.duration, c.tagsDuration = 100*time.Millisecond, 100*time.Millisecond
	return c
}

// newTestRegistry serves go-containerregistry's in-process registry,
// which wants no authentication, behind wrap (if not nil), and returns a
// client that went through the same connect as against chainctl.
func newTestRegistry(t *testing.T, password credential, wrap func(http.Handler) http.Handler) (*client, bool) {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := newClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	authenticated, err := c.connect(t.Context(), password, time.Now)
	if err != nil {
		t.Fatalf("connect = %v", err)
	}
	return c, authenticated
}

// TestWorkloads runs every workload against go-containerregistry's
// in-process registry, which verifies digests and Content-Range, and checks
// each reports the figures the table needs: once as it is, without
// authentication, and once behind a fake of Docker token authentication
// that refuses every request without a valid token, except anonymous
// pulls of bench-public/*.
func TestWorkloads(t *testing.T) {
	cfg := tinyConfig()
	want := map[string][]string{
		"mono":    {"mono"},
		"chunked": {"chunked"},
		"small":   {"small"},
		"get":     {"get", "get-p50", "get-p99"},
		"anon":    {"anon"},
		"head":    {"head", "head-p50", "head-p99"},
		"tags":    {"tags"},
		"blob":    {"blob"}, // streamed; no server probe in process
		"ptget":   {"ptget"},
		"token":   {"token-session", "token-pull"},
		"evget":   {"evget-off", "evget-on", "evget-delivered", "evget-backlog", "evget-dropped", "evget-delete"},
		"evpush":  {"evpush-off", "evpush-on", "evpush-backlog"},
		"evrate":  {"evrate", "evrate-push", "evrate-p50", "evrate-p99"},
	}
	// Without token authentication there are no pull tokens to measure,
	// and no session to subscribe to events with.
	needsTokens := []string{"ptget", "token", "evget", "evpush", "evrate"}
	// Figures that may be 0: what is left pending, or lost, and the
	// fake's delivery latency (it may deliver before the 201 is read).
	mayBeZero := []string{"evget-backlog", "evget-dropped", "evpush-backlog", "evrate-p50", "evrate-p99"}
	var fake *fakeTokenAuth
	tests := []struct {
		name     string
		password credential
		wrap     func(http.Handler) http.Handler
		authn    bool
	}{
		{name: "no auth", password: func(string, time.Time) (string, error) {
			t.Error("the credential was asked for, though GET /v2/ answered 200")
			return "", errors.New("no credential")
		}},
		{name: "bearer", password: fakeCredential, authn: true, wrap: func(next http.Handler) http.Handler {
			fake = newFakeTokenAuth(next, time.Now)
			return fake
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, authenticated := newTestRegistry(t, tt.password, tt.wrap)
			if authenticated != tt.authn {
				t.Fatalf("connect = %v, want %v", authenticated, tt.authn)
			}
			for _, w := range workloads() {
				if w.run == nil {
					continue // a direct workload: TestEventList
				}
				t.Run(w.name, func(t *testing.T) {
					out, err := w.run(t.Context(), c, cfg, 0)
					if err != nil {
						t.Fatalf("run = %v", err)
					}
					// A second round pushes new content and reuses the setup.
					if _, err := w.run(t.Context(), c, cfg, 1); err != nil {
						t.Fatalf("run round 1 = %v", err)
					}
					var got []string
					for id, v := range out.values {
						got = append(got, id)
						if v == 0 && slices.Contains(mayBeZero, id) {
							continue
						}
						if !(v > 0) || math.IsInf(v, 0) {
							t.Errorf("value %s = %v, want a positive number", id, v)
						}
					}
					slices.Sort(got)
					exp := slices.Sorted(slices.Values(want[w.name]))
					if !tt.authn && slices.Contains(needsTokens, w.name) {
						exp = nil
					}
					if !slices.Equal(got, exp) {
						t.Errorf("metrics = %v, want %v", got, exp)
					}
					// The fake records every GET's pull event.
					if v, ok := out.values["evget-dropped"]; ok && v != 0 {
						t.Errorf("evget-dropped = %v%%, want 0", v)
					}
				})
			}
			// The pushes really landed: the registry serves what was pushed.
			if _, err := c.getManifest(t.Context(), "bench/small", "v2"); err != nil {
				t.Errorf("getManifest(bench/small:v2) = %v", err)
			}
			if !tt.authn {
				return
			}
			st := fake.stats()
			if st.anonymousPulls == 0 {
				t.Error("workload anon sent no anonymous pull")
			}
			// One token per repository (11 of them), fetched once with the
			// upstream credential: none nears its expiry within the test.
			if n := st.issuedBy[kindUpstream]; n != 11 {
				t.Errorf("tokens issued for the upstream credential = %d, want 11 (one per repository)", n)
			}
			// Every event workload deleted its subscription.
			if n := fake.events.live(); n != 0 {
				t.Errorf("subscriptions left = %d, want 0", n)
			}
			// The token workload's phases each exchanged their own
			// credential, every request anew; ptget got its tokens with a
			// pull token.
			if st.issuedBy[kindSession] < 2 || st.issuedBy[kindPullToken] < 2 {
				t.Errorf("tokens issued = %v, want several for a session and for a pull token", st.issuedBy)
			}
		})
	}
}

func TestPushErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		chunked bool
		want    []string
	}{
		{
			name: "start refused",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"errors":[{"code":"DENIED"}]}`, http.StatusForbidden)
			},
			want: []string{"POST /v2/r/blobs/uploads/", "403 Forbidden", "DENIED"},
		},
		{
			name: "no location",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusAccepted)
			},
			want: []string{"without a Location header"},
		},
		{
			name: "digest rejected",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					w.Header().Set("Location", "/v2/r/blobs/uploads/1?_state=x")
					w.WriteHeader(http.StatusAccepted)
					return
				}
				_, _ = io.Copy(io.Discard, r.Body)
				if r.URL.Query().Get("_state") != "x" || r.URL.Query().Get("digest") == "" {
					http.Error(w, "lost query "+r.URL.RawQuery, http.StatusTeapot)
					return
				}
				http.Error(w, `{"errors":[{"code":"DIGEST_INVALID"}]}`, http.StatusBadRequest)
			},
			want: []string{"PUT /v2/r/blobs/uploads/1", "400 Bad Request", "DIGEST_INVALID"},
		},
		{
			name:    "chunk out of order",
			chunked: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Location", "/v2/r/blobs/uploads/1")
				if r.Method == http.MethodPatch && r.Header.Get("Content-Range") != "0-1023" {
					http.Error(w, "range", http.StatusRequestedRangeNotSatisfiable)
					return
				}
				w.WriteHeader(http.StatusAccepted)
			},
			want: []string{"chunk at 1024", "416"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c, err := newClient(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			const size = 4096
			body := newPattern(9, size)
			if tt.chunked {
				err = c.pushBlobChunked(t.Context(), "r", "sha256:x", size, 1024, body)
			} else {
				err = c.pushBlob(t.Context(), "r", "sha256:x", size, body)
			}
			if err == nil {
				t.Fatal("push = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("push = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestHammerStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	_, err := hammer(context.Background(), 4, time.Minute, 1000, func(_ context.Context, i int) error {
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("hammer = %v, want %v", err, boom)
	}
	l, err := hammer(context.Background(), 4, time.Minute, 100, func(context.Context, int) error { return nil })
	if err != nil || l.requests != 100 {
		t.Errorf("hammer = %d requests, %v; want the 100-request cap, nil", l.requests, err)
	}
}

func TestPattern(t *testing.T) {
	const size = 3*patternBlock + 777
	whole, err := io.ReadAll(newPattern(1, size))
	if err != nil || len(whole) != size {
		t.Fatalf("ReadAll = %d bytes, %v; want %d", len(whole), err, size)
	}
	// Reading in odd pieces gives the same bytes.
	var pieces bytes.Buffer
	p, buf := newPattern(1, size), make([]byte, 4093)
	for {
		n, err := p.Read(buf[:1+pieces.Len()*7919%len(buf)])
		pieces.Write(buf[:n])
		if err == io.EOF {
			break
		}
	}
	if !bytes.Equal(pieces.Bytes(), whole) {
		t.Error("reading in pieces differs from reading at once")
	}
	d, err := patternDigest(1, size)
	if err != nil || d != sha256Digest(whole) {
		t.Errorf("patternDigest = %s, %v; want %s", d, err, sha256Digest(whole))
	}
	other, _ := patternDigest(2, size)
	if other == d {
		t.Error("seeds 1 and 2 give the same digest")
	}
	for i := 1; i < 3; i++ {
		if bytes.Equal(whole[:patternBlock], whole[i*patternBlock:(i+1)*patternBlock]) {
			t.Errorf("block %d repeats block 0", i)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(options) bool
		wantErr string
	}{
		{name: "defaults", args: nil, check: func(o options) bool {
			return o.chainctl == "bin/chainctl" && o.distribution == "registry" && o.duration == 10*time.Second &&
				len(o.selected()) == len(workloads()) && slices.Equal(o.targets, []string{"chainctl", "distribution"}) && o.autoTargets &&
				o.s3Server == s3Versitygw && o.config().s3Server == s3Versitygw
		}},
		{name: "s3 server versitygw", args: []string{"-s3-server", "versitygw"}, check: func(o options) bool {
			return o.s3Server == s3Versitygw && o.config().s3Server == s3Versitygw
		}},
		{name: "s3 server seaweedfs", args: []string{"-s3-server", "seaweedfs", "-quick"}, check: func(o options) bool {
			return o.s3Server == s3SeaweedFS && o.config().s3Server == s3SeaweedFS
		}},
		{name: "unknown s3 server", args: []string{"-s3-server", "minio"}, wantErr: `-s3-server "minio": want versitygw or seaweedfs`},
		// The value is the flag's, not the program's or the table's name.
		{name: "s3 server by binary name", args: []string{"-s3-server", "weed"}, wantErr: `want versitygw or seaweedfs`},
		{name: "s3 server by label", args: []string{"-s3-server", "SeaweedFS"}, wantErr: `want versitygw or seaweedfs`},
		{name: "empty s3 server", args: []string{"-s3-server", ""}, wantErr: `-s3-server "": want versitygw or seaweedfs`},
		{name: "explicit targets", args: []string{"-targets", "chainctl-s3,distribution"}, check: func(o options) bool {
			return slices.Equal(o.targets, []string{"chainctl-s3", "distribution"}) && !o.autoTargets
		}},
		{name: "in-memory target", args: []string{"-targets", "chainctl,in-memory"}, check: func(o options) bool {
			return slices.Equal(o.targets, []string{"chainctl", "in-memory"}) && !o.autoTargets
		}},
		{name: "quick shortens phases", args: []string{"-quick"}, check: func(o options) bool {
			cfg := o.config()
			return cfg.duration == time.Second && cfg.blobSize == 8<<20
		}},
		{name: "quick keeps explicit duration", args: []string{"-quick", "-duration", "3s"}, check: func(o options) bool {
			return o.config().duration == 3*time.Second && o.config().tagsDuration == 1500*time.Millisecond
		}},
		{name: "only", args: []string{"-only", "tags, get"}, check: func(o options) bool {
			var names []string
			for _, w := range o.selected() {
				names = append(names, w.name)
			}
			return slices.Equal(names, []string{"get", "tags"})
		}},
		{name: "chainctl args", args: []string{"-chainctl-args", "--debug  --x=1"}, check: func(o options) bool {
			return slices.Equal(o.chainctlArgs, []string{"--debug", "--x=1"})
		}},
		{name: "only anon", args: []string{"-only", "anon"}, check: func(o options) bool {
			sel := o.selected()
			return len(sel) == 1 && sel[0].name == "anon" && sel[0].runsAgainst(targetChainctl) && !sel[0].runsAgainst(targetDistribution)
		}},
		{name: "unknown workload", args: []string{"-only", "pull"}, wantErr: `unknown "pull"`},
		{name: "unknown target", args: []string{"-targets", "zot"}, wantErr: `unknown "zot"`},
		{name: "unknown target lists in-memory", args: []string{"-targets", "crane"}, wantErr: `want one of chainctl,chainctl-s3,distribution,in-memory`},
		{name: "zero duration", args: []string{"-duration", "0s"}, wantErr: "must be positive"},
		{name: "zero rounds", args: []string{"-rounds", "0"}, wantErr: "want 1 to 100"},
		{name: "rounds", args: []string{"-rounds", "3"}, check: func(o options) bool { return o.rounds == 3 }},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if !tt.check(o) {
				t.Errorf("parseFlags(%q) = %+v", tt.args, o)
			}
		})
	}
}

// TestAvailableTargets checks the targets of a run without -targets: with
// no versitygw and no crane to be found, chainctl and Distribution, and a
// note for each target left out; with crane, in-memory last. The note on
// chainctl-s3 names the -s3-server it looked for.
func TestAvailableTargets(t *testing.T) {
	dir := t.TempDir()
	// PATH is dir alone: no go to ask for GOBIN and GOPATH either.
	t.Setenv("PATH", dir)
	var stderr bytes.Buffer
	o := options{postgres: defaultPostgres, s3Server: s3Versitygw}
	if got := o.availableTargets(t.Context(), &stderr); !slices.Equal(got, []string{targetChainctl, targetDistribution}) {
		t.Errorf("targets = %q, want chainctl and distribution", got)
	}
	for _, want := range []string{"note: chainctl-s3 (chainctl on S3, versitygw, + PostgreSQL)", "versitygw not found", "note: in-memory", "crane not found", "./.ci/tools.sh"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
		}
	}
	stderr.Reset()
	weed := o
	weed.s3Server = s3SeaweedFS
	if got := weed.availableTargets(t.Context(), &stderr); !slices.Equal(got, []string{targetChainctl, targetDistribution}) {
		t.Errorf("-s3-server seaweedfs: targets = %q, want chainctl and distribution", got)
	}
	for _, want := range []string{"note: chainctl-s3 (chainctl on S3, SeaweedFS, + PostgreSQL)", "weed not found", "./.ci/tools.sh bench"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-s3-server seaweedfs: stderr = %q, want it to contain %q", stderr.String(), want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "crane"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if got := o.availableTargets(t.Context(), &stderr); !slices.Equal(got, []string{targetChainctl, targetDistribution, targetInMemory}) {
		t.Errorf("with crane, targets = %q, want chainctl, distribution and in-memory", got)
	}
	if strings.Contains(stderr.String(), "in-memory") {
		t.Errorf("with crane, stderr = %q, want no note on in-memory", stderr.String())
	}
}
