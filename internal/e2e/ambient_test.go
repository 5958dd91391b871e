package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// githubActions stands in for the GitHub Actions runner's ID-token endpoint
// (ACTIONS_ID_TOKEN_REQUEST_URL): it checks the request token and the
// audience, as GitHub does, and hands out an ID token of the test's CI
// issuer for that audience.
type githubActions struct {
	*httptest.Server
	requestToken string
	requests     atomic.Int32
}

func newGitHubActions(t *testing.T, audience, idToken string) *githubActions {
	t.Helper()
	gh := &githubActions{requestToken: "ghs-request-" + strings.Repeat("x", 24)}
	gh.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gh.requests.Add(1)
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/_apis/distributedtask/token":
			http.Error(w, "not found", http.StatusNotFound)
		case r.Header.Get("Authorization") != "Bearer "+gh.requestToken:
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		case r.URL.Query().Get("api-version") != "2.0" || r.URL.Query().Get("audience") != audience:
			http.Error(w, `{"message":"bad audience"}`, http.StatusBadRequest)
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"value": idToken})
		}
	}))
	t.Cleanup(gh.Close)
	return gh
}

// env is what the runner sets in a job with `permissions: id-token: write`.
func (gh *githubActions) env(requestToken string) []string {
	return []string{
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + gh.URL + "/_apis/distributedtask/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + requestToken,
	}
}

// TestAmbientGitHubActions runs chainctl as a GitHub Actions job would:
// `chainctl auth login` with no flags and no terminal, and the credential
// helper with no login at all, both getting their identity token from the
// runner's endpoint with the registry's service name as audience. --debug
// output and every other output stay free of the tokens.
func TestAmbientGitHubActions(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()
	idTok := srv.Token(t) // audience: the registry's service name, its host
	gh := newGitHubActions(t, srv.Addr, idTok)

	t.Run("login", func(t *testing.T) {
		h := newHelperEnv(t, gh.env(gh.requestToken)...)
		before := gh.requests.Load()
		out := h.must(ctx, "", chainctlBin, "--debug", "auth", "login", "--registry", srv.Addr)
		if !strings.Contains(out, "github-actions") {
			t.Errorf("login output does not name the GitHub Actions provider:\n%s", out)
		}
		// --debug logs the requests (and nothing secret, checked below).
		if !strings.Contains(out, "/oauth/token") || !strings.Contains(out, "http request") {
			t.Errorf("login --debug output does not log the token exchange:\n%s", out)
		}
		if n := gh.requests.Load() - before; n != 1 {
			t.Errorf("login asked the runner for %d tokens, want 1", n)
		}
		if out, code := h.cmd(ctx, "", chainctlBin, "--debug", "auth", "status", "--registry", srv.Addr); code != 0 {
			t.Errorf("auth status after an ambient login: exit %d\n%s", code, out)
		}
		h.noSecrets(srv, gh.requestToken, idTok, h.cachedSession(ctx, srv.Addr))
	})

	t.Run("credential helper", func(t *testing.T) {
		h := newHelperEnv(t, gh.env(gh.requestToken)...)
		h.must(ctx, "", chainctlBin, "config", "set", "registry", srv.Addr)
		before, exch := gh.requests.Load(), exchanges(t, srv)
		session := h.cachedSession(ctx, srv.Addr) // a cold get: runner token → exchange
		if again := h.cachedSession(ctx, srv.Addr); again != session {
			t.Error("a second get answered another session")
		}
		if n := gh.requests.Load() - before; n != 1 {
			t.Errorf("two gets asked the runner for %d tokens, want 1", n)
		}
		if n := exchanges(t, srv) - exch; n != 1 {
			t.Errorf("two gets made %d exchanges, want 1", n)
		}
		h.noSecrets(srv, gh.requestToken, idTok, session)
	})

	t.Run("bad request token", func(t *testing.T) {
		wrong := "ghs-wrong-" + strings.Repeat("y", 24)
		h := newHelperEnv(t, gh.env(wrong)...)
		out, code := h.cmd(ctx, "", chainctlBin, "--debug", "auth", "login", "--registry", srv.Addr)
		if code == 0 || !strings.Contains(strings.ToLower(out), "github") {
			t.Errorf("login with a bad runner token: exit %d, want a failure naming GitHub Actions:\n%s", code, out)
		}
		h.noSecrets(srv, wrong, gh.requestToken, idTok)
	})
}
