// Package e2e drives a real `chainctl registry serve` process with real
// clients: the OCI conformance suite, crane and oras. The tools are
// installed by .ci/tools.sh (`make test` runs it); without them these tests
// skip, unless CHAINCTL_TEST_REQUIRE_ALL=1, when a missing tool fails.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// chainctlBin and helperBin are the binaries under test, built once by
// TestMain into one directory, as the release archives install them.
var chainctlBin, helperBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chainctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	chainctlBin = filepath.Join(dir, "chainctl")
	helperBin = filepath.Join(dir, "docker-credential-chainctl")
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/chainctl/chainctl/cmd/chainctl", "github.com/chainctl/chainctl/cmd/docker-credential-chainctl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build chainctl:", err)
		return 1
	}
	return m.Run()
}

// requireTool returns the path of an external tool, or skips the test —
// fails it under CHAINCTL_TEST_REQUIRE_ALL=1, so CI cannot go green by
// skipping.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found on PATH (install it with .ci/tools.sh)", name)
	if os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// server is a running `chainctl registry serve` process.
type server struct {
	Addr    string // host:port
	DataDir string
	cmd     *exec.Cmd
	out     *lockedBuffer
	ci      *ciIssuer
	killed  bool // by kill: the cleanup has nothing to stop
}

// kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	s.killed = true
}

// Token returns an upstream OIDC token that the server's "e2e" identity
// (owner of every repository) accepts: the password clients log in with.
func (s *server) Token(t *testing.T) string {
	t.Helper()
	return s.ci.token(t, "e2e", s.Addr)
}

func (s *server) URL() string { return "http://" + s.Addr }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs the registry as a user would after `make run`: no flags
// but the listen address, and a fresh home so the default data directory is
// used. extra adds flags.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServerWith(t, "", extra...)
}

// startServerWith is startServer with more identities, YAML list items
// indented to sit under auth.identities.
func startServerWith(t *testing.T, identities string, extra ...string) *server {
	t.Helper()
	return startServerOpts(t, serverOptions{identities: identities, args: extra})
}

// serverOptions are what startServerOpts can vary.
type serverOptions struct {
	identities string    // more identities, as for startServerWith
	args       []string  // more `registry serve` arguments
	env        []string  // more environment variables
	ci         *ciIssuer // the CI issuer to trust (replicas share one); nil: a new one
	addr       string    // the address to listen on; "": a free one
	config     string    // more top-level YAML of the configuration file
}

// startServerOpts starts `chainctl registry serve` as startServer does.
func startServerOpts(t *testing.T, o serverOptions) *server {
	t.Helper()
	home := t.TempDir()
	if o.ci == nil {
		o.ci = newCIIssuer(t)
	}
	if o.addr == "" {
		o.addr = freeAddr(t)
	}
	s := &server{Addr: o.addr, out: &lockedBuffer{}, ci: o.ci}
	cfg := filepath.Join(home, "chainctl.yaml")
	if err := os.WriteFile(cfg, []byte(s.ci.config("e2e")+o.identities+o.config), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"registry", "serve", "--listen", s.Addr, "--config", cfg}, o.args...)
	s.cmd = exec.Command(chainctlBin, args...)
	s.cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	s.cmd.Env = append(s.cmd.Env, o.env...)
	s.DataDir = filepath.Join(home, "data", "chainctl")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.killed {
			return
		}
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("chainctl registry serve exited with %v on SIGINT; output:\n%s", err, s.out)
			}
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			t.Errorf("chainctl registry serve did not stop within 15s of SIGINT")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("registry did not become ready; output:\n%s", s.out)
	return nil
}

// runTool runs an external command, failing the test with its output.
func runTool(t *testing.T, ctx context.Context, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

func commandIn(ctx context.Context, dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
