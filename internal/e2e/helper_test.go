package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/chainctl/chainctl/internal/tokencache"
)

// helperEnv is a user's machine for the credential helper: its own home,
// cache, configuration and DOCKER_CONFIG, and a bin directory, first on
// PATH, holding docker-credential-chainctl (a link to the standalone helper
// under test, which finds chainctl next to its target). No CI credentials
// of the machine running the tests leak in.
type helperEnv struct {
	t         *testing.T
	root      string
	dockerCfg string
	cacheDir  string
	env       []string
	outputs   []string // every output of every command, checked for tokens
}

// ambientVars are the variables ambient credential detection reads; they are
// dropped from the tests' environment so only what a test sets is seen.
var ambientVars = []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
	"CIRCLE_OIDC_TOKEN", "CIRCLE_OIDC_TOKEN_V2", "BUILDKITE"}

func newHelperEnv(t *testing.T, extra ...string) *helperEnv {
	t.Helper()
	return newHelperEnvWith(t, helperBin, extra...)
}

// newHelperEnvWith is newHelperEnv with docker-credential-chainctl a link
// to helper: helperBin, or chainctlBin, which answers as the helper when
// run by that name.
func newHelperEnvWith(t *testing.T, helper string, extra ...string) *helperEnv {
	t.Helper()
	root := t.TempDir()
	h := &helperEnv{t: t, root: root, dockerCfg: filepath.Join(root, "docker"),
		cacheDir: filepath.Join(root, "cache")}
	bin := filepath.Join(root, "bin")
	for _, d := range []string{bin, h.dockerCfg, filepath.Join(root, "home"), h.cacheDir, filepath.Join(root, "config")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(helper, filepath.Join(bin, "docker-credential-chainctl")); err != nil {
		t.Fatal(err)
	}
	drop := map[string]bool{"HOME": true, "XDG_CACHE_HOME": true, "XDG_CONFIG_HOME": true,
		"DOCKER_CONFIG": true, "PATH": true, "DOCKER_AUTH_CONFIG": true}
	for _, v := range ambientVars {
		drop[v] = true
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "CHAINCTL_") || strings.HasPrefix(k, "BUILDKITE_") {
			continue
		}
		h.env = append(h.env, kv)
	}
	h.env = append(h.env,
		"HOME="+filepath.Join(root, "home"),
		"XDG_CACHE_HOME="+h.cacheDir,
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"DOCKER_CONFIG="+h.dockerCfg,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	h.env = append(h.env, extra...)
	return h
}

// cmd runs name with args and stdin in the environment, returning its
// combined output and exit code.
func (h *helperEnv) cmd(ctx context.Context, stdin, name string, args ...string) (string, int) {
	h.t.Helper()
	if name == "docker-credential-chainctl" {
		name = filepath.Join(h.root, "bin", name)
	}
	c := exec.CommandContext(ctx, name, args...)
	c.Env = h.env
	c.Dir = h.root
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	out, err := c.CombinedOutput()
	h.outputs = append(h.outputs, string(out))
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		h.t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return string(out), 0
}

// must runs a command that has to succeed.
func (h *helperEnv) must(ctx context.Context, stdin, name string, args ...string) string {
	h.t.Helper()
	out, code := h.cmd(ctx, stdin, name, args...)
	if code != 0 {
		h.t.Fatalf("%s %s: exit %d\n%s", filepath.Base(name), strings.Join(args, " "), code, out)
	}
	return out
}

// noSecrets fails the test if any secret shows up in a command's output or
// the registry's log.
func (h *helperEnv) noSecrets(srv *server, secrets ...string) {
	h.t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, out := range h.outputs {
			if strings.Contains(out, s) {
				h.t.Errorf("a token appears in client output:\n%s", out)
			}
		}
		if strings.Contains(srv.out.String(), s) {
			h.t.Errorf("a token appears in the registry log")
		}
	}
}

// cachedSession is the session token the helper's cache holds for host.
func (h *helperEnv) cachedSession(ctx context.Context, host string) string {
	h.t.Helper()
	out := h.must(ctx, host, "docker-credential-chainctl", "get")
	var c struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		h.t.Fatalf("helper get = %q: %v", out, err)
	}
	h.outputs = h.outputs[:len(h.outputs)-1] // the one output allowed a secret
	if c.ServerURL != host || c.Username != "_token" || c.Secret == "" {
		h.t.Fatalf("helper get = {%q %q secret %d bytes}, want {%q \"_token\" a session}", c.ServerURL, c.Username, len(c.Secret), host)
	}
	return c.Secret
}

// imageTar writes a small random image as a tarball crane can append.
func imageTar(t *testing.T) string {
	t.Helper()
	img, err := random.Image(64<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	p := filepath.Join(t.TempDir(), "layer.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return p
}

// exchanges is the number of successful token exchanges the server has
// answered, read from its metrics.
func exchanges(t *testing.T, srv *server) int {
	t.Helper()
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "chainctl_http_requests_total{") ||
			!strings.Contains(line, `method="POST"`) || !strings.Contains(line, `route="token-exchange"`) ||
			!strings.Contains(line, `status="200"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

// TestHelperLoginCraneOras logs in with an identity token, configures
// docker, and pushes with crane and pulls with oras with no credentials but
// what docker-credential-chainctl answers.
func TestHelperLoginCraneOras(t *testing.T) {
	crane := requireTool(t, "crane")
	oras := requireTool(t, "oras")
	srv := startServer(t, "--dev")
	ctx, cancel := contextWithTimeout(t, 3*time.Minute)
	defer cancel()
	h := newHelperEnv(t)
	idTok := srv.Token(t)

	h.must(ctx, idTok, chainctlBin, "auth", "login", "--registry", srv.Addr, "--identity-token", "-")
	if out, code := h.cmd(ctx, "", chainctlBin, "auth", "status", "--registry", srv.Addr); code != 0 {
		t.Fatalf("auth status after login: exit %d\n%s", code, out)
	}
	h.must(ctx, "", chainctlBin, "auth", "configure-docker", "--registry", srv.Addr)
	b, err := os.ReadFile(filepath.Join(h.dockerCfg, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		CredHelpers map[string]string `json:"credHelpers"`
		Auths       map[string]any    `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.CredHelpers[srv.Addr] != "chainctl" || len(cfg.Auths) != 0 {
		t.Fatalf("config.json = %s (%v), want credHelpers %s: chainctl and no auths", b, err, srv.Addr)
	}

	ref := srv.Addr + "/team/helper:v1"
	h.must(ctx, "", crane, "append", "-f", imageTar(t), "-t", ref)
	want := strings.TrimSpace(h.must(ctx, "", crane, "digest", ref))
	if !strings.HasPrefix(want, "sha256:") {
		t.Fatalf("crane digest = %q", want)
	}
	out := h.must(ctx, "", oras, "manifest", "fetch", "--plain-http", "--descriptor", ref)
	if !strings.Contains(out, want) {
		t.Fatalf("oras manifest fetch --descriptor = %s, want digest %s", out, want)
	}
	dst := t.TempDir()
	h.must(ctx, "", oras, "pull", "--plain-http", "-o", dst, ref)

	// Without the helper the same pull is refused: the helper was what
	// authenticated it.
	noHelper := newHelperEnv(t)
	if out, code := noHelper.cmd(ctx, "", oras, "manifest", "fetch", "--plain-http", ref); code == 0 {
		t.Fatalf("oras without the helper fetched %s:\n%s", ref, out)
	}

	// A host that is not a configured registry gets exactly not-found.
	if out, code := h.cmd(ctx, "other.example:5000", "docker-credential-chainctl", "get"); code != 1 ||
		out != "credentials not found in native keychain\n" {
		t.Fatalf("get for an unconfigured host = exit %d %q", code, out)
	}
	h.noSecrets(srv, idTok, h.cachedSession(ctx, srv.Addr))
}

// TestHelperAmbient pushes with crane in a "CI job": CHAINCTL_IDENTITY_TOKEN
// set, the registry configured, never `chainctl auth login`. The registry
// runs without --dev: a CI exchange needs no login provider.
func TestHelperAmbient(t *testing.T) {
	crane := requireTool(t, "crane")
	srv := startServer(t)
	ctx, cancel := contextWithTimeout(t, 3*time.Minute)
	defer cancel()
	idTok := srv.Token(t)
	h := newHelperEnv(t, "CHAINCTL_IDENTITY_TOKEN="+idTok)

	// Not configured yet: the helper does not answer for the host, even
	// with ambient credentials around.
	if out, code := h.cmd(ctx, srv.Addr, "docker-credential-chainctl", "get"); code != 1 ||
		out != "credentials not found in native keychain\n" {
		t.Fatalf("get before configuring = exit %d %q", code, out)
	}
	h.must(ctx, "", chainctlBin, "config", "set", "registry", srv.Addr)
	h.must(ctx, "", chainctlBin, "auth", "configure-docker", "--registry", srv.Addr)

	before := exchanges(t, srv)
	ref := srv.Addr + "/ci/app:build-1"
	h.must(ctx, "", crane, "append", "-f", imageTar(t), "-t", ref)
	h.must(ctx, "", crane, "digest", ref)
	if n := exchanges(t, srv) - before; n != 1 {
		t.Errorf("a push and a digest made %d token exchanges, want 1 (then the cached session)", n)
	}
	h.noSecrets(srv, idTok, h.cachedSession(ctx, srv.Addr))

	// The session cached, the ambient token gone: a warm get still answers.
	warm := newHelperEnv(t)
	warm.env = append(h.env, "CHAINCTL_IDENTITY_TOKEN=")
	before = exchanges(t, srv)
	warm.cachedSession(ctx, srv.Addr)
	if n := exchanges(t, srv) - before; n != 0 {
		t.Errorf("a warm get made %d exchanges", n)
	}
}

// TestHelperParallelGets starts 16 helper gets at once on an empty cache
// with ambient credentials: the cache lock makes them share one exchange,
// with the standalone helper (whose 16 misses each run chainctl) and with
// chainctl itself linked as the helper.
func TestHelperParallelGets(t *testing.T) {
	t.Run("standalone", func(t *testing.T) { testHelperParallelGets(t, helperBin) })
	t.Run("link to chainctl", func(t *testing.T) { testHelperParallelGets(t, chainctlBin) })
}

func testHelperParallelGets(t *testing.T, helper string) {
	srv := startServer(t)
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()
	idTok := srv.Token(t)
	h := newHelperEnvWith(t, helper, "CHAINCTL_IDENTITY_TOKEN="+idTok, "CHAINCTL_REGISTRY="+srv.Addr)
	h.must(ctx, "", chainctlBin, "config", "set", "registry", srv.Addr)

	before := exchanges(t, srv)
	const n = 16
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := exec.CommandContext(ctx, filepath.Join(h.root, "bin", "docker-credential-chainctl"), "get")
			c.Env, c.Dir, c.Stdin = h.env, h.root, strings.NewReader(srv.Addr)
			out, err := c.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	secret := ""
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("get %d: %v\n%s", i, errs[i], outs[i])
		}
		var c struct{ ServerURL, Username, Secret string }
		if err := json.Unmarshal([]byte(outs[i]), &c); err != nil || c.Username != "_token" || c.Secret == "" {
			t.Fatalf("get %d = %d bytes, not a session answer (%v)", i, len(outs[i]), err)
		}
		if secret == "" {
			secret = c.Secret
		} else if c.Secret != secret {
			t.Errorf("get %d answered another session than get 0", i)
		}
	}
	if got := exchanges(t, srv) - before; got != 1 {
		t.Fatalf("16 parallel gets made %d token exchanges, want exactly 1", got)
	}
	if strings.Contains(srv.out.String(), secret) || strings.Contains(srv.out.String(), idTok) {
		t.Errorf("a token appears in the registry log")
	}
}

// TestHelperExpiredSession: a session past its life with nothing to renew
// it names `chainctl auth login`.
func TestHelperExpiredSession(t *testing.T) {
	srv, h, ctx := loggedIn(t, time.Minute, "--dev")
	// Age the cached session past its expiry, as a night would.
	tc, err := tokencache.Open(filepath.Join(h.cacheDir, "chainctl", "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := tc.Get(srv.Addr)
	if err != nil || e.Kind != tokencache.KindSession {
		t.Fatalf("cached entry after login: kind %q, %v", e.Kind, err)
	}
	e.Expiry = time.Now().Add(-time.Minute)
	if err := tc.Put(srv.Addr, e); err != nil {
		t.Fatal(err)
	}
	out, code := h.cmd(ctx, srv.Addr, "docker-credential-chainctl", "get")
	if code != 1 || !strings.Contains(out, "chainctl auth login --registry "+srv.Addr) {
		t.Fatalf("get on an expired session = exit %d %q, want an error naming `chainctl auth login`", code, out)
	}
	h.noSecrets(srv, e.Token)

	// With ambient credentials the same expired session is renewed.
	h.env = append(h.env, "CHAINCTL_IDENTITY_TOKEN="+srv.Token(t))
	if got := h.cachedSession(ctx, srv.Addr); got == e.Token {
		t.Fatal("get renewed nothing: the expired session was answered")
	}
}

// TestHelperDockerStoreErase drives the helper's store, list and erase:
// directly, then through the real docker CLI — `docker login` (verified at
// the registry client-side, as docker does without a daemon) stores, and
// `docker logout` erases.
func TestHelperDockerStoreErase(t *testing.T) {
	docker := requireTool(t, "docker")
	srv := startServer(t, "--dev")
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()
	h := newHelperEnv(t)
	h.must(ctx, "", chainctlBin, "auth", "configure-docker", "--registry", srv.Addr)
	pullToken := accessToken(t, srv, "repository:team/helper:pull")

	in, _ := json.Marshal(map[string]string{"ServerURL": srv.Addr, "Username": "pulltoken", "Secret": pullToken})
	h.must(ctx, string(in), "docker-credential-chainctl", "store")
	if out := h.must(ctx, "", "docker-credential-chainctl", "list"); strings.TrimSpace(out) != `{"`+srv.Addr+`":"pulltoken"}` {
		t.Fatalf("list after store = %q", out)
	}
	out := h.must(ctx, srv.Addr, "docker-credential-chainctl", "get")
	h.outputs = h.outputs[:len(h.outputs)-1]
	var c struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Username != "pulltoken" || c.Secret != pullToken {
		t.Fatalf("get after store: username %q, secret matches %v (%v)", c.Username, c.Secret == pullToken, err)
	}

	// docker login (client-side, without a daemon) verifies the password
	// at the registry and hands it to the helper's store: a session
	// token, which the registry's /token takes as a Basic password.
	login := newHelperEnv(t)
	login.must(ctx, srv.Token(t), chainctlBin, "auth", "login", "--registry", srv.Addr, "--identity-token", "-")
	sessionTok := login.cachedSession(ctx, srv.Addr)
	h.must(ctx, sessionTok, docker, "login", srv.Addr, "-u", "pulltoken", "--password-stdin")
	b, err := os.ReadFile(filepath.Join(h.dockerCfg, "config.json"))
	if err != nil || strings.Contains(string(b), sessionTok) {
		t.Fatalf("config.json after docker login holds the secret (%v)", err)
	}
	out = h.must(ctx, srv.Addr, "docker-credential-chainctl", "get")
	h.outputs = h.outputs[:len(h.outputs)-1]
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Username != "pulltoken" || c.Secret != sessionTok {
		t.Fatalf("get after docker login: username %q, secret matches %v (%v)", c.Username, c.Secret == sessionTok, err)
	}
	fi, err := os.Stat(h.cacheDir + "/chainctl/tokens")
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("token cache directory: %v %v, want 0700", fi, err)
	}

	h.must(ctx, "", docker, "logout", srv.Addr)
	if out := h.must(ctx, "", "docker-credential-chainctl", "list"); strings.TrimSpace(out) != "{}" {
		t.Fatalf("list after docker logout = %q", out)
	}
	if out, code := h.cmd(ctx, srv.Addr, "docker-credential-chainctl", "get"); code != 1 ||
		out != "credentials not found in native keychain\n" {
		t.Fatalf("get after docker logout = exit %d %q", code, out)
	}
	h.noSecrets(srv, pullToken, sessionTok)
}

// loggedIn starts a registry with args, and a helper environment whose
// chainctl is logged in to it as the e2e identity; ctx ends after d, or
// with the test.
func loggedIn(t *testing.T, d time.Duration, args ...string) (*server, *helperEnv, context.Context) {
	t.Helper()
	srv := startServer(t, args...)
	ctx, cancel := contextWithTimeout(t, d)
	t.Cleanup(cancel)
	h := newHelperEnv(t)
	h.must(ctx, srv.Token(t), chainctlBin, "auth", "login", "--registry", srv.Addr, "--identity-token", "-")
	return srv, h, ctx
}
