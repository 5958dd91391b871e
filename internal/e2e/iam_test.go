package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestIdentitiesCLI drives `chainctl iam identities` against a real server:
// an owner's session creates a GitHub Actions identity, lists it, and
// `identities test` explains why a token misses an identity.
func TestIdentitiesCLI(t *testing.T) {
	srv := startServer(t)
	session := exchangeSession(t, srv, srv.Token(t))
	env := append(os.Environ(), "CHAINCTL_REGISTRY="+srv.URL(), "CHAINCTL_TOKEN="+session)
	run := func(stdin string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), chainctlBin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), session) {
			t.Fatalf("chainctl %v printed the session token", args)
		}
		return string(out), code
	}

	if out, code := run("", "iam", "identities", "create", "github", "--repository", "acme/app",
		"--repository-id", "123", "--owner-id", "456", "--role", "pusher:acme/*"); code != 0 {
		t.Fatalf("create github = %d:\n%s", code, out)
	}
	out, code := run("", "iam", "identities", "list", "-o", "json")
	if code != 0 || !strings.Contains(out, `"github-acme-app"`) || !strings.Contains(out, `"e2e"`) {
		t.Fatalf("list = %d:\n%s", code, out)
	}

	// A token of the configured CI issuer for another subject: the e2e
	// identity says which claim failed.
	other := srv.ci.token(t, "someone-else", srv.Addr)
	out, code = run(other, "iam", "identities", "test", "-")
	t.Logf("chainctl iam identities test (mismatch):\n%s", out)
	if code != 1 || !strings.Contains(out, "✗ e2e") || !strings.Contains(out, `"someone-else"`) {
		t.Errorf("identities test of a mismatching token = %d:\n%s", code, out)
	}
	out, code = run(srv.Token(t), "iam", "identities", "test", "-")
	if code != 0 || !strings.Contains(out, "✓ e2e") {
		t.Errorf("identities test of a matching token = %d:\n%s", code, out)
	}

	// Without a session the commands exit 4 (auth) and say how to log in.
	home := t.TempDir()
	noSession := append(os.Environ(), "CHAINCTL_REGISTRY="+srv.URL(), "CHAINCTL_TOKEN=",
		"HOME="+home, "XDG_CACHE_HOME="+home+"/cache", "XDG_CONFIG_HOME="+home+"/config")
	cmd := exec.CommandContext(t.Context(), chainctlBin, "iam", "identities", "list")
	cmd.Env = noSession
	out2, err := cmd.CombinedOutput()
	if err == nil || err.(*exec.ExitError).ExitCode() != 4 || !strings.Contains(string(out2), "chainctl auth login --registry") {
		t.Errorf("list without a session = %v:\n%s", err, out2)
	}

	// After `chainctl auth login` the commands use its session, with no
	// CHAINCTL_TOKEN.
	login := exec.CommandContext(t.Context(), chainctlBin, "auth", "login", "--identity-token", "-")
	login.Env = noSession
	login.Stdin = strings.NewReader(srv.Token(t))
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("auth login = %v:\n%s", err, out)
	}
	cmd = exec.CommandContext(t.Context(), chainctlBin, "iam", "identities", "list", "-o", "json")
	cmd.Env = noSession
	out2, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out2), `"github-acme-app"`) {
		t.Errorf("list after auth login = %v:\n%s", err, out2)
	}
}

// exchangeSession trades an upstream token for a session token.
func exchangeSession(t *testing.T, srv *server, upstream string) string {
	t.Helper()
	resp, err := http.PostForm(srv.URL()+"/oauth/token", url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {upstream},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("exchange = %d (%v)", resp.StatusCode, err)
	}
	return r.AccessToken
}
