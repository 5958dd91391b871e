package ambient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProvidersOrder(t *testing.T) {
	var got []string
	for _, p := range Providers(&fakeEnv{}) {
		got = append(got, p.Name())
	}
	want := []string{GitHubActions, GitLabCI, Buildkite, CircleCI, Kubernetes, IdentityToken}
	if !slices.Equal(got, want) {
		t.Errorf("Providers() = %v, want %v", got, want)
	}
}

func TestDetect(t *testing.T) {
	ghTok := makeJWT(`{"p":"github"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+ghRequestToken || r.URL.Query().Get("audience") != audience {
			http.Error(w, "denied", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, `{"value":%q}`, ghTok)
	}))
	defer srv.Close()

	github := map[string]string{EnvGitHubRequestURL: srv.URL + "/?api-version=2.0", EnvGitHubRequestToken: ghRequestToken}
	gitlab := map[string]string{DefaultGitLabVariable: makeJWT(`{"p":"gitlab"}`)}
	buildkite := map[string]string{EnvBuildkite: "true"}
	circle := map[string]string{EnvCircleOIDCTokenV2: makeJWT(`{"p":"circle"}`)}
	generic := map[string]string{EnvIdentityToken: makeJWT(`{"p":"generic"}`)}
	k8sFile := map[string]string{DefaultK8sTokenPath: makeJWT(`{"p":"k8s"}`)}
	bkTok := makeJWT(`{"p":"buildkite"}`)
	agentPath := map[string]string{BuildkiteAgent: "/bin/buildkite-agent"}

	tests := []struct {
		name    string
		vars    []map[string]string
		files   map[string]string
		paths   map[string]string
		want    string
		wantTok string
		wantErr error
	}{
		{name: "everything: github wins", vars: []map[string]string{generic, circle, buildkite, gitlab, github}, files: k8sFile, paths: agentPath, want: GitHubActions, wantTok: ghTok},
		{name: "gitlab before buildkite", vars: []map[string]string{generic, circle, buildkite, gitlab}, files: k8sFile, paths: agentPath, want: GitLabCI, wantTok: gitlab[DefaultGitLabVariable]},
		{name: "buildkite before circleci", vars: []map[string]string{generic, circle, buildkite}, files: k8sFile, paths: agentPath, want: Buildkite, wantTok: bkTok},
		{name: "buildkite without agent is skipped", vars: []map[string]string{generic, circle, buildkite}, files: k8sFile, want: CircleCI, wantTok: circle[EnvCircleOIDCTokenV2]},
		{name: "circleci before kubernetes", vars: []map[string]string{generic, circle}, files: k8sFile, want: CircleCI, wantTok: circle[EnvCircleOIDCTokenV2]},
		{name: "kubernetes before generic", vars: []map[string]string{generic}, files: k8sFile, want: Kubernetes, wantTok: k8sFile[DefaultK8sTokenPath]},
		{name: "generic last", vars: []map[string]string{generic}, want: IdentityToken, wantTok: generic[EnvIdentityToken]},
		{name: "half a github environment is not github", vars: []map[string]string{{EnvGitHubRequestURL: srv.URL}, generic}, want: IdentityToken, wantTok: generic[EnvIdentityToken]},
		{name: "nothing", vars: []map[string]string{{"CI": "true", "HOME": "/root"}}, wantErr: ErrNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			for _, m := range tt.vars {
				for k, v := range m {
					vars[k] = v
				}
			}
			env := &fakeEnv{
				vars: vars, files: tt.files, paths: tt.paths, client: srv.Client(),
				run: func(context.Context, string, ...string) ([]byte, error) { return []byte(bkTok), nil },
			}
			name, tok, err := Detect(t.Context(), env, audience)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || name != "" || tok != "" {
					t.Fatalf("Detect() = %q, %q, %v; want error %v", name, tok, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect() error = %v", err)
			}
			if name != tt.want || tok != tt.wantTok {
				t.Errorf("Detect() = %q, %q; want %q, %q", name, tok, tt.want, tt.wantTok)
			}
		})
	}
}

// A detected provider that fails stops detection, with an error naming it,
// even when a later provider would have worked.
func TestDetectDetectedProviderFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	circleTok := makeJWT(`{"p":"circle"}`)
	tests := []struct {
		name     string
		vars     map[string]string
		wantName string
		wantErr  string
		secrets  []string
	}{
		{
			name: "github forbidden",
			vars: map[string]string{
				EnvGitHubRequestURL: srv.URL + "/?x=1", EnvGitHubRequestToken: ghRequestToken,
				EnvCircleOIDCTokenV2: circleTok,
			},
			wantName: GitHubActions,
			wantErr:  "github-actions detected but no token obtained (later providers not tried): token endpoint 127.0.0.1",
			secrets:  []string{ghRequestToken, circleTok},
		},
		{
			name:     "gitlab malformed",
			vars:     map[string]string{DefaultGitLabVariable: "bad token\x00", EnvCircleOIDCTokenV2: circleTok},
			wantName: GitLabCI,
			wantErr:  "gitlab-ci detected but",
			secrets:  []string{"bad token", circleTok},
		},
		{
			name:     "kubernetes path configured but missing",
			vars:     map[string]string{EnvK8sTokenPath: "/nope/token", EnvIdentityToken: circleTok},
			wantName: Kubernetes,
			wantErr:  "/nope/token",
			secrets:  []string{circleTok},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &fakeEnv{vars: tt.vars, client: srv.Client()}
			name, tok, err := Detect(t.Context(), env, audience)
			var de *DetectedError
			if !errors.As(err, &de) || de.Provider != tt.wantName || name != tt.wantName || tok != "" {
				t.Fatalf("Detect() = %q, %q, %v; want a *DetectedError from %s", name, tok, err, tt.wantName)
			}
			if errors.Is(err, ErrNone) {
				t.Errorf("Detect() error %v is ErrNone", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Detect() error = %v, want containing %q", err, tt.wantErr)
			}
			checkNoSecret(t, err, tt.secrets...)
		})
	}
}

func TestCleanToken(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "trimmed", in: " \r\n abc.def.ghi\n", want: "abc.def.ghi"},
		{name: "empty", in: " \n", wantErr: true},
		{name: "inner space", in: "abc def", wantErr: true},
		{name: "control", in: "abc\x01", wantErr: true},
		{name: "non-ascii", in: "abcé", wantErr: true},
		{name: "at cap", in: strings.Repeat("a", MaxTokenSize), want: strings.Repeat("a", MaxTokenSize)},
		{name: "over cap", in: strings.Repeat("a", MaxTokenSize+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cleanToken([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("cleanToken(%.20q) = %.20q, %v; want %.20q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			checkNoSecret(t, err, strings.TrimSpace(tt.in))
		})
	}
}

func TestLooksLikeJWT(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{makeJWT(`{"sub":"x"}`), true},
		{"/var/run/secrets/token", false},
		{"./token.jwt", false},
		{"a.b.c", false},
		{"e30.e30.", false},
		{"e30.e30.c2ln", true},
		{"e30.e30.c2ln.e30.e30", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikeJWT(tt.in); got != tt.want {
			t.Errorf("looksLikeJWT(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestOSEnv(t *testing.T) {
	env := OSEnv()
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := readFileCapped(env, path, 16)
	if err != nil || string(b) != "tok\n" {
		t.Errorf("readFileCapped(%s) = %q, %v; want %q", path, b, err, "tok\n")
	}
	if _, err := readFileCapped(env, path, 2); err == nil {
		t.Errorf("readFileCapped(%s, 2) succeeded, want a size error", path)
	}
	if _, err := readFileCapped(env, dir, 16); err == nil {
		t.Errorf("readFileCapped(%s) on a directory succeeded", dir)
	}
	if env.HTTPClient() == nil || env.HTTPClient().Timeout != DefaultTimeout {
		t.Errorf("OSEnv().HTTPClient() has no %v timeout", DefaultTimeout)
	}

	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run commands with")
	}
	out, err := env.Run(t.Context(), sh, "-c", "echo token; echo noise >&2")
	if err != nil || string(out) != "token\n" {
		t.Errorf("Run(echo) = %q, %v; want %q", out, err, "token\n")
	}
	_, err = env.Run(t.Context(), sh, "-c", "echo first >&2; echo 'not enabled for this pipeline' >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "exit status 3: not enabled for this pipeline") {
		t.Errorf("Run(exit 3) error = %v, want exit status and last stderr line", err)
	}
	_, err = env.Run(t.Context(), sh, "-c", "head -c 100000 /dev/zero")
	if err == nil || !strings.Contains(err.Error(), "output larger than") {
		t.Errorf("Run(big output) error = %v, want a size error", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := env.Run(ctx, sh, "-c", "sleep 5"); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(canceled) error = %v, want context.Canceled", err)
	}
}
