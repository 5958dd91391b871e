package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// canary is a well-formed pull-token secret that the fake registry hands
// out, in the create answer and (misbehaving) in the list answer too.
const (
	canary   = "ccpt_nr3tv1zZ9hWEjSakBKxq2j7dTGg9JtNszcSu69efxNY3wyxZ1"
	canaryID = "pt-abcdefghijklmnopqrst"
)

// fakePullTokenAPI is a registry's /api/v1/pull-tokens on loopback.
func fakePullTokenAPI(t *testing.T) *httptest.Server {
	t.Helper()
	token := `{"id":"` + canaryID + `","name":"ci","repositories":["acme/*"],"creator":"alice","created":"2026-12-07T14:00:00Z",` +
		`"expires":"2027-01-06T14:00:00Z","expired":false,"secret":"` + canary + `"}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer token-for-127.0.0.1:") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v1/pull-tokens":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, token)
		case "GET /api/v1/pull-tokens":
			_, _ = io.WriteString(w, `{"pull_tokens":[`+token+`]}`)
		case "DELETE /api/v1/pull-tokens/" + canaryID:
			w.WriteHeader(http.StatusNoContent)
		case "DELETE /api/v1/pull-tokens/pt-bbbbbbbbbbbbbbbbbbbb":
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"not_found","message":"no such pull token"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestPullTokenSecretOnlyOnCreateStdout runs the pull-token commands
// through the whole tree with --debug against a registry that hands out a
// canary secret: it must reach create's standard output, in every format,
// and nothing else: not stderr, not the debug log, not list or revoke.
func TestPullTokenSecretOnlyOnCreateStdout(t *testing.T) {
	ts := fakePullTokenAPI(t)
	tests := []struct {
		name       string
		args       []string
		want       ExitCode
		wantSecret bool // on stdout
		wantStdout string
	}{
		{name: "create table", args: []string{"auth", "pull-token", "create", "--repository", "acme/*"}, wantSecret: true,
			wantStdout: "docker login 127.0.0.1:"},
		{name: "create json", args: []string{"auth", "pull-token", "create", "--repository", "acme/*", "-o", "json"}, wantSecret: true,
			wantStdout: `"registry": "127.0.0.1:`},
		{name: "create env, global flag position", args: []string{"--output=env", "auth", "pull-token", "create", "--repository", "acme/*"}, wantSecret: true,
			wantStdout: "CHAINCTL_PULL_TOKEN_PASSWORD='" + canary + "'\n"},
		{name: "create dockerconfigjson", args: []string{"auth", "pull-token", "create", "--repository", "acme/*", "-o", "dockerconfigjson"}, wantSecret: true,
			wantStdout: `"password": "` + canary + `"`},
		{name: "list", args: []string{"auth", "pull-token", "list"}, wantStdout: canaryID},
		{name: "list json", args: []string{"auth", "pull-token", "list", "-o", "json"}, wantStdout: `"id": "` + canaryID + `"`},
		{name: "revoke, one failing", args: []string{"auth", "pull-token", "revoke", canaryID, "pt-bbbbbbbbbbbbbbbbbbbb"}, want: ExitError,
			wantStdout: "Revoked " + canaryID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			dir := t.TempDir()
			f := newFactory(ios, sources{
				userConfig: func() (config.User, error) { return config.User{}, nil },
				tokenCache: func() (*tokencache.Cache, error) { return tokencache.Open(dir) },
				session: func(_ context.Context, reg session.Registry, _ shared.SessionOptions) (tokencache.Entry, error) {
					return tokencache.Entry{Kind: tokencache.KindSession, Token: "token-for-" + reg.Host}, nil
				},
			})
			f.LookupEnv = func(string) (string, bool) { return "", false }
			args := append([]string{"--debug"}, tt.args...)
			args = append(args, "--registry", ts.URL)
			if got := Run(t.Context(), f, args); got != tt.want {
				t.Fatalf("Run(%q) = %d, want %d; stderr:\n%s", args, got, tt.want, errOut)
			}
			if !strings.Contains(out.String(), tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, out)
			}
			if got := strings.Contains(out.String(), canary); got != tt.wantSecret {
				t.Errorf("secret on stdout: %v, want %v:\n%s", got, tt.wantSecret, out)
			}
			if !bytes.Contains(errOut.Bytes(), []byte(`"msg":"http request"`)) {
				t.Errorf("stderr has no debug log of the requests (is --debug on?):\n%s", errOut)
			}
			if strings.Contains(errOut.String(), canary) || strings.Contains(errOut.String(), "nr3tv1") {
				t.Errorf("stderr holds the secret:\n%s", errOut)
			}
		})
	}
}
