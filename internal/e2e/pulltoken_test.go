package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pullTokenAPI calls /api/v1/pull-tokens+path on srv (apiCall).
func pullTokenAPI(t *testing.T, srv *server, method, path, session string, body any) (int, map[string]any) {
	t.Helper()
	return apiCall(t, srv, method, "/api/v1/pull-tokens"+path, session, body)
}

// apiCall calls the management API at path on srv with a session token;
// body, unless nil, is sent as JSON. It returns the status and the
// decoded body.
func apiCall(t *testing.T, srv *server, method, path, session string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+session)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		_ = json.Unmarshal(b, &out)
	}
	return resp.StatusCode, out
}

// newPullToken creates a pull token on srv for the repository patterns
// and returns its id and secret.
func newPullToken(t *testing.T, srv *server, session string, repos ...string) (string, string) {
	t.Helper()
	status, got := pullTokenAPI(t, srv, "POST", "", session, map[string]any{"name": "e2e", "repositories": repos})
	if status != http.StatusCreated {
		t.Fatalf("create pull token = %d %v", status, got)
	}
	return got["id"].(string), got["secret"].(string)
}

// pullTokenExchange asks srv's /token for scope with a pull token and
// returns the status and the access token.
func pullTokenExchange(t *testing.T, srv *server, service, id, secret, scope string) (int, string) {
	t.Helper()
	q := url.Values{"service": {service}, "scope": {scope}}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL()+"/token?"+q.Encode(), nil)
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Token
}

// TestPullTokenWithRealClients logs docker in with a pull token (through
// --password-stdin, as the token's create output says), then pulls with
// crane, oras and skopeo on those credentials alone; pushes and
// repositories outside the token's patterns are refused, and a revoked
// token pulls nothing.
func TestPullTokenWithRealClients(t *testing.T) {
	docker := requireTool(t, "docker")
	crane := requireTool(t, "crane")
	oras := requireTool(t, "oras")
	skopeo := requireTool(t, "skopeo")
	srv := startServer(t)
	ctx, cancel := contextWithTimeout(t, 3*time.Minute)
	defer cancel()

	owner := &authn.Basic{Username: "e2e", Password: srv.Token(t)}
	for _, repo := range []string{"acme/app:v1", "other/x:v1"} {
		ref := (&replicas{}).ref(t, srv, repo)
		if err := remote.Write(ref, mustRandomImage(t), remote.WithAuth(owner), remote.WithContext(ctx)); err != nil {
			t.Fatalf("push %s: %v", repo, err)
		}
	}
	session := exchangeSession(t, srv, srv.Token(t))
	id, secret := newPullToken(t, srv, session, "acme/*")

	// A machine with no chainctl login: docker login stores the pull token
	// in its config, and every client reads it from there.
	h := newHelperEnv(t)
	h.must(ctx, secret, docker, "login", srv.Addr, "-u", id, "--password-stdin")
	app := srv.Addr + "/acme/app:v1"
	h.must(ctx, "", crane, "manifest", app)
	h.must(ctx, "", crane, "pull", app, filepath.Join(t.TempDir(), "app.tar"))
	h.must(ctx, "", oras, "manifest", "fetch", "--plain-http", app)
	authfile := filepath.Join(h.dockerCfg, "config.json")
	h.must(ctx, "", skopeo, "inspect", "--tls-verify=false", "--authfile", authfile, "docker://"+app)
	h.must(ctx, "", skopeo, "copy", "--src-tls-verify=false", "--src-authfile", authfile, "docker://"+app, "dir:"+t.TempDir())

	// Pull only, and only acme/*.
	if out, code := h.cmd(ctx, "", crane, "copy", app, srv.Addr+"/acme/app:pushed"); code == 0 {
		t.Errorf("crane copy (a push) with a pull token succeeded:\n%s", out)
	}
	if out, code := h.cmd(ctx, "", crane, "manifest", srv.Addr+"/other/x:v1"); code == 0 {
		t.Errorf("crane manifest of other/x with an acme/* pull token succeeded:\n%s", out)
	}
	if out, code := h.cmd(ctx, "", skopeo, "inspect", "--tls-verify=false", "--authfile", authfile, "docker://"+srv.Addr+"/other/x:v1"); code == 0 {
		t.Errorf("skopeo inspect of other/x with an acme/* pull token succeeded:\n%s", out)
	}

	// Revoked: nothing pulls any more.
	if status, body := pullTokenAPI(t, srv, "DELETE", "/"+id, session, nil); status != http.StatusNoContent {
		t.Fatalf("revoke = %d %v", status, body)
	}
	if out, code := h.cmd(ctx, "", crane, "manifest", app); code == 0 {
		t.Errorf("crane manifest after revocation succeeded:\n%s", out)
	}
	if out, code := h.cmd(ctx, "", oras, "manifest", "fetch", "--plain-http", app); code == 0 {
		t.Errorf("oras manifest fetch after revocation succeeded:\n%s", out)
	}

	// The registry logged no secret, and its database holds none.
	if strings.Contains(srv.out.String(), secret) {
		t.Error("the pull token's secret is in the registry's log")
	}
	if bytes.Contains(databaseFiles(t, filepath.Join(srv.DataDir, "registry.db")), []byte(secret)) {
		t.Error("the registry's database holds the pull token's secret")
	}
}

// TestPullTokenReplicas: a pull token made on one replica works on the
// other, and its revocation on one is in force on the other — the next
// /token at once, an access token issued before within a second or so.
func TestPullTokenReplicas(t *testing.T) {
	r := startReplicas(t)
	r.push(t, r.a, "acme/app:v1", mustRandomImage(t))
	session := exchangeSession(t, r.a, r.auth.(*authn.Basic).Password)
	id, secret := newPullToken(t, r.a, session, "acme/app")

	pt := &authn.Basic{Username: id, Password: secret}
	if _, err := remote.Image(r.ref(t, r.b, "acme/app:v1"), remote.WithAuth(pt), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pull from B with a pull token made on A: %v", err)
	}
	status, tok := pullTokenExchange(t, r.b, r.service, id, secret, "repository:acme/app:pull")
	if status != http.StatusOK {
		t.Fatalf("/token on B = %d", status)
	}
	manifest := func() int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", r.b.URL()+"/v2/acme/app/manifests/v1", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := manifest(); got != http.StatusOK {
		t.Fatalf("manifest GET on B with the access token = %d", got)
	}

	if status, body := pullTokenAPI(t, r.a, "DELETE", "/"+id, session, nil); status != http.StatusNoContent {
		t.Fatalf("revoke on A = %d %v", status, body)
	}
	if status, _ := pullTokenExchange(t, r.b, r.service, id, secret, "repository:acme/app:pull"); status != http.StatusUnauthorized {
		t.Errorf("/token on B right after revocation on A = %d, want 401", status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for manifest() == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("B still honours an access token of a pull token revoked on A 5s ago")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// split runs name with args in h's environment and returns its standard
// output and standard error apart, failing the test unless it exits 0.
func (h *helperEnv) split(ctx context.Context, name string, args ...string) (string, string) {
	h.t.Helper()
	c := exec.CommandContext(ctx, name, args...)
	c.Env, c.Dir = h.env, h.root
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		h.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestPullTokenCLI is the flow a user follows, on a registry logging at
// debug level: create a token with the CLI (--debug), list it, pull with
// it through docker login and through --save, revoke it. The secret is in
// no output but the one create prints on standard output: not in stderr,
// not in the --debug log, not in the registry's log.
func TestPullTokenCLI(t *testing.T) {
	docker := requireTool(t, "docker")
	crane := requireTool(t, "crane")
	srv := startServer(t, "--debug")
	ctx, cancel := contextWithTimeout(t, 3*time.Minute)
	defer cancel()
	owner := &authn.Basic{Username: "e2e", Password: srv.Token(t)}
	if err := remote.Write((&replicas{}).ref(t, srv, "acme/app:v1"), mustRandomImage(t), remote.WithAuth(owner), remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}

	h := newHelperEnv(t)
	h.must(ctx, srv.Token(t), chainctlBin, "auth", "login", "--registry", srv.Addr, "--identity-token", "-")
	var outputs []string // every output but create's stdout
	created, stderr := h.split(ctx, chainctlBin, "--debug", "auth", "pull-token", "create", "--registry", srv.Addr,
		"--repository", "acme/*", "--name", "canary", "-o", "json")
	outputs = append(outputs, stderr)
	var tok struct{ ID, Secret, Registry string }
	if err := json.Unmarshal([]byte(created), &tok); err != nil || tok.Secret == "" || tok.Registry != srv.Addr {
		t.Fatalf("create -o json = %q (%v)", created, err)
	}
	if !strings.Contains(stderr, "http request") {
		t.Fatalf("create --debug logged no request; the canary sees nothing:\n%s", stderr)
	}
	for _, args := range [][]string{
		{"--debug", "auth", "pull-token", "list", "--registry", srv.Addr},
		{"--debug", "auth", "pull-token", "list", "--registry", srv.Addr, "-o", "json"},
	} {
		stdout, stderr := h.split(ctx, chainctlBin, args...)
		outputs = append(outputs, stdout, stderr)
		if !strings.Contains(stdout, tok.ID) {
			t.Errorf("%v does not list %s:\n%s", args, tok.ID, stdout)
		}
	}

	// A machine that only pulls: docker login with the token, crane pulls.
	puller := newHelperEnv(t)
	outputs = append(outputs, puller.must(ctx, tok.Secret, docker, "login", srv.Addr, "-u", tok.ID, "--password-stdin"))
	outputs = append(outputs, puller.must(ctx, "", crane, "manifest", srv.Addr+"/acme/app:v1"))

	// --save on a machine with a session: the helper answers docker with
	// the token (pull only), while chainctl keeps the session.
	saved, stderr := h.split(ctx, chainctlBin, "auth", "pull-token", "create", "--registry", srv.Addr, "--repository", "acme/*", "--save", "-o", "json")
	outputs = append(outputs, stderr)
	var savedTok struct{ ID, Secret string }
	if err := json.Unmarshal([]byte(saved), &savedTok); err != nil {
		t.Fatalf("create --save -o json = %q (%v)", saved, err)
	}
	outputs = append(outputs, h.must(ctx, "", crane, "manifest", srv.Addr+"/acme/app:v1"))
	if out, code := h.cmd(ctx, "", crane, "copy", srv.Addr+"/acme/app:v1", srv.Addr+"/acme/app:v2"); code == 0 {
		t.Errorf("a push through the helper after --save succeeded, so it did not use the pull token:\n%s", out)
	} else {
		outputs = append(outputs, out)
	}
	stdout, stderr := h.split(ctx, chainctlBin, "auth", "pull-token", "list", "--registry", srv.Addr)
	outputs = append(outputs, stdout, stderr)
	if !strings.Contains(stdout, savedTok.ID) {
		t.Errorf("list after --save (with the session) does not show %s:\n%s", savedTok.ID, stdout)
	}

	stdout, stderr = h.split(ctx, chainctlBin, "--debug", "auth", "pull-token", "revoke", "--registry", srv.Addr, tok.ID)
	outputs = append(outputs, stdout, stderr)
	if out, code := puller.cmd(ctx, "", crane, "manifest", srv.Addr+"/acme/app:v1"); code == 0 {
		t.Errorf("crane manifest with the revoked token succeeded:\n%s", out)
	}

	for _, out := range append(outputs, srv.out.String()) {
		for _, secret := range []string{tok.Secret, savedTok.Secret} {
			if strings.Contains(out, secret) {
				t.Errorf("a pull token's secret appears outside create's standard output:\n%s", out)
			}
		}
	}
	h.noSecrets(srv, tok.Secret, savedTok.Secret)
	puller.noSecrets(srv, tok.Secret)
}
