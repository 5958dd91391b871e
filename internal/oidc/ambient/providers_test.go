package ambient

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGitLabToken(t *testing.T) {
	tokA, tokB := makeJWT(`{"sub":"a"}`), makeJWT(`{"sub":"b"}`)
	tests := []struct {
		name    string
		vars    map[string]string
		opts    []Option
		detect  bool
		want    string
		wantErr string
	}{
		{name: "default variable", vars: map[string]string{DefaultGitLabVariable: " " + tokA + "\n"}, detect: true, want: tokA},
		{name: "configured variable first", vars: map[string]string{"MY_ID_TOKEN": tokB, DefaultGitLabVariable: tokA}, opts: []Option{WithGitLabVariable("MY_ID_TOKEN")}, detect: true, want: tokB},
		{name: "configured variable only", vars: map[string]string{"MY_ID_TOKEN": tokB}, opts: []Option{WithGitLabVariable("MY_ID_TOKEN")}, detect: true, want: tokB},
		{name: "configured variable unset falls back to default", vars: map[string]string{DefaultGitLabVariable: tokA}, opts: []Option{WithGitLabVariable("MY_ID_TOKEN")}, detect: true, want: tokA},
		{name: "configured variable not read without the option", vars: map[string]string{"MY_ID_TOKEN": tokB}},
		{name: "empty is not detected", vars: map[string]string{DefaultGitLabVariable: "  "}},
		{name: "malformed", vars: map[string]string{DefaultGitLabVariable: "two words"}, detect: true, wantErr: "CHAINCTL_GITLAB_ID_TOKEN: token contains whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := providerNamed(t, Providers(&fakeEnv{vars: tt.vars}, tt.opts...), GitLabCI)
			if got := p.Detect(); got != tt.detect {
				t.Fatalf("Detect() = %v, want %v", got, tt.detect)
			}
			if !tt.detect {
				return
			}
			got, err := p.Token(t.Context(), audience)
			checkToken(t, got, err, tt.want, tt.wantErr, "two words")
		})
	}
}

func TestBuildkiteToken(t *testing.T) {
	tok := makeJWT(`{"sub":"organization:o:pipeline:p"}`)
	const agent = "/usr/local/bin/buildkite-agent"
	tests := []struct {
		name     string
		vars     map[string]string
		paths    map[string]string
		run      func(ctx context.Context, name string, args ...string) ([]byte, error)
		audience string
		detect   bool
		want     string
		wantErr  string
	}{
		{
			name:  "ok",
			vars:  map[string]string{EnvBuildkite: "true"},
			paths: map[string]string{BuildkiteAgent: agent},
			run: func(_ context.Context, name string, args ...string) ([]byte, error) {
				want := []string{"oidc", "request-token", "--audience", audience}
				if name != agent || !slices.Equal(args, want) {
					return nil, errors.New("unexpected invocation " + name + " " + strings.Join(args, " "))
				}
				return []byte(tok + "\n"), nil
			},
			audience: audience,
			detect:   true,
			want:     tok,
		},
		{
			name:  "no audience flag without an audience",
			vars:  map[string]string{EnvBuildkite: "true"},
			paths: map[string]string{BuildkiteAgent: agent},
			run: func(_ context.Context, name string, args ...string) ([]byte, error) {
				if !slices.Equal(args, []string{"oidc", "request-token"}) {
					return nil, errors.New("unexpected args " + strings.Join(args, " "))
				}
				return []byte(tok), nil
			},
			detect: true,
			want:   tok,
		},
		{name: "agent not on PATH", vars: map[string]string{EnvBuildkite: "true"}},
		{name: "not buildkite", vars: map[string]string{EnvBuildkite: "false"}, paths: map[string]string{BuildkiteAgent: agent}},
		{
			name:  "agent fails",
			vars:  map[string]string{EnvBuildkite: "true"},
			paths: map[string]string{BuildkiteAgent: agent},
			run: func(context.Context, string, ...string) ([]byte, error) {
				return nil, errors.New("exit status 1: OIDC tokens are not enabled")
			},
			audience: audience,
			detect:   true,
			wantErr:  "buildkite-agent oidc request-token: exit status 1: OIDC tokens are not enabled",
		},
		{
			name:  "empty output",
			vars:  map[string]string{EnvBuildkite: "true"},
			paths: map[string]string{BuildkiteAgent: agent},
			run: func(context.Context, string, ...string) ([]byte, error) {
				return []byte("\n"), nil
			},
			audience: audience,
			detect:   true,
			wantErr:  "token is empty",
		},
		{
			name:  "oversized output",
			vars:  map[string]string{EnvBuildkite: "true"},
			paths: map[string]string{BuildkiteAgent: agent},
			run: func(context.Context, string, ...string) ([]byte, error) {
				return []byte(strings.Repeat("x", 2*MaxTokenSize)), nil
			},
			audience: audience,
			detect:   true,
			wantErr:  "output larger than",
		},
		{
			name:  "timeout",
			vars:  map[string]string{EnvBuildkite: "true"},
			paths: map[string]string{BuildkiteAgent: agent},
			run: func(ctx context.Context, _ string, _ ...string) ([]byte, error) {
				if _, ok := ctx.Deadline(); !ok {
					return nil, errors.New("no deadline")
				}
				<-ctx.Done()
				return nil, ctx.Err()
			},
			audience: audience,
			detect:   true,
			wantErr:  "context deadline exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &fakeEnv{vars: tt.vars, paths: tt.paths, run: tt.run}
			p := providerNamed(t, Providers(env, WithTimeout(50*time.Millisecond)), Buildkite)
			if got := p.Detect(); got != tt.detect {
				t.Fatalf("Detect() = %v, want %v", got, tt.detect)
			}
			if !tt.detect {
				return
			}
			got, err := p.Token(t.Context(), tt.audience)
			checkToken(t, got, err, tt.want, tt.wantErr, tok)
		})
	}
}

func TestCircleCIToken(t *testing.T) {
	v1, v2 := makeJWT(`{"v":1}`), makeJWT(`{"v":2}`)
	tests := []struct {
		name   string
		vars   map[string]string
		detect bool
		want   string
	}{
		{name: "v2 before v1", vars: map[string]string{EnvCircleOIDCToken: v1, EnvCircleOIDCTokenV2: v2}, detect: true, want: v2},
		{name: "v1 only", vars: map[string]string{EnvCircleOIDCToken: v1}, detect: true, want: v1},
		{name: "empty v2 falls back to v1", vars: map[string]string{EnvCircleOIDCToken: v1, EnvCircleOIDCTokenV2: ""}, detect: true, want: v1},
		{name: "none", vars: map[string]string{"CIRCLECI": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := providerNamed(t, Providers(&fakeEnv{vars: tt.vars}), CircleCI)
			if got := p.Detect(); got != tt.detect {
				t.Fatalf("Detect() = %v, want %v", got, tt.detect)
			}
			if !tt.detect {
				return
			}
			// The audience cannot be chosen on CircleCI; it is ignored.
			got, err := p.Token(t.Context(), audience)
			checkToken(t, got, err, tt.want, "")
		})
	}
}

func TestKubernetesRotation(t *testing.T) {
	first, second := makeJWT(`{"n":1}`), makeJWT(`{"n":2}`)
	env := &fakeEnv{files: map[string]string{DefaultK8sTokenPath: first + "\n"}}
	p := providerNamed(t, Providers(env), Kubernetes)
	if !p.Detect() {
		t.Fatal("Detect() = false, want true")
	}
	for i, want := range []string{first, second} {
		if i == 1 {
			env.files[DefaultK8sTokenPath] = second // the kubelet rotated it
		}
		got, err := p.Token(t.Context(), audience)
		checkToken(t, got, err, want, "")
	}
}

func TestKubernetesPath(t *testing.T) {
	tok := makeJWT(`{"sub":"system:serviceaccount:ns:sa"}`)
	tests := []struct {
		name    string
		vars    map[string]string
		files   map[string]string
		opts    []Option
		detect  bool
		want    string
		wantErr string
	}{
		{name: "default path absent", files: map[string]string{"/other": tok}},
		{name: "env path", vars: map[string]string{EnvK8sTokenPath: "/custom/token"}, files: map[string]string{"/custom/token": tok}, detect: true, want: tok},
		{
			name:   "option path over env path",
			vars:   map[string]string{EnvK8sTokenPath: "/custom/token"},
			files:  map[string]string{"/custom/token": "wrong", "/opt/token": tok},
			opts:   []Option{WithK8sTokenPath("/opt/token")},
			detect: true, want: tok,
		},
		{name: "explicit path missing is detected and reported", vars: map[string]string{EnvK8sTokenPath: "/custom/token"}, detect: true, wantErr: "/custom/token"},
		{name: "oversized file", files: map[string]string{DefaultK8sTokenPath: strings.Repeat("x", 2*MaxTokenSize)}, detect: true, wantErr: "larger than"},
		{name: "directory", vars: map[string]string{EnvK8sTokenPath: "/custom"}, files: map[string]string{"/custom/token": tok}, detect: true, wantErr: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := providerNamed(t, Providers(&fakeEnv{vars: tt.vars, files: tt.files}, tt.opts...), Kubernetes)
			if got := p.Detect(); got != tt.detect {
				t.Fatalf("Detect() = %v, want %v", got, tt.detect)
			}
			if !tt.detect {
				return
			}
			got, err := p.Token(t.Context(), audience)
			checkToken(t, got, err, tt.want, tt.wantErr, tok)
		})
	}
}

func TestIdentityToken(t *testing.T) {
	tok := makeJWT(`{"sub":"generic"}`)
	const opaque = "opaque-secret-not-a-jwt"
	tests := []struct {
		name    string
		value   string
		files   map[string]string
		want    string
		wantErr string
	}{
		{name: "token", value: tok, want: tok},
		{name: "token with whitespace", value: "\t" + tok + "\n", want: tok},
		{name: "file", value: "/run/secrets/id-token", files: map[string]string{"/run/secrets/id-token": tok + "\n"}, want: tok},
		{name: "file that is not a JWT is still used", value: "/tok", files: map[string]string{"/tok": "abc.def"}, want: "abc.def"},
		{name: "neither token nor file", value: opaque, wantErr: "not a JWT, and reading it as a file path failed"},
		{name: "dotted non-JWT", value: "a.b.c", wantErr: "not a JWT"},
		{name: "empty file", value: "/tok", files: map[string]string{"/tok": "\n"}, wantErr: "token is empty"},
		{name: "oversized file", value: "/tok", files: map[string]string{"/tok": strings.Repeat("x", 2*MaxTokenSize)}, wantErr: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &fakeEnv{vars: map[string]string{EnvIdentityToken: tt.value}, files: tt.files}
			p := providerNamed(t, Providers(env), IdentityToken)
			if !p.Detect() {
				t.Fatal("Detect() = false, want true")
			}
			got, err := p.Token(t.Context(), audience)
			checkToken(t, got, err, tt.want, tt.wantErr, tok, opaque, "a.b.c")
		})
	}
}

func providerNamed(t *testing.T, ps []Provider, name string) Provider {
	t.Helper()
	for _, p := range ps {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no provider %q", name)
	return nil
}

func checkToken(t *testing.T, got string, err error, want, wantErr string, secrets ...string) {
	t.Helper()
	checkNoSecret(t, err, secrets...)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Token() = %q, %v; want error containing %q", got, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	if got != want {
		t.Errorf("Token() = %q, want %q", got, want)
	}
}
