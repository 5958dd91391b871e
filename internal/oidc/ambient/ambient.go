package ambient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Provider names, as returned by Provider.Name and Detect.
const (
	GitHubActions = "github-actions"
	GitLabCI      = "gitlab-ci"
	Buildkite     = "buildkite"
	CircleCI      = "circleci"
	Kubernetes    = "kubernetes"
	IdentityToken = "identity-token"
)

// Environment variables and paths the providers read.
const (
	EnvGitHubRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// DefaultGitLabVariable is the variable a GitLab job declares under
	// `id_tokens:` with `aud:` set to the registry's service name.
	DefaultGitLabVariable = "CHAINCTL_GITLAB_ID_TOKEN"
	EnvBuildkite          = "BUILDKITE"
	BuildkiteAgent        = "buildkite-agent"
	EnvCircleOIDCTokenV2  = "CIRCLE_OIDC_TOKEN_V2"
	EnvCircleOIDCToken    = "CIRCLE_OIDC_TOKEN"
	EnvK8sTokenPath       = "CHAINCTL_K8S_TOKEN_PATH"
	// DefaultK8sTokenPath is where a pod is expected to mount a projected
	// service-account token whose audience is the registry's service name.
	DefaultK8sTokenPath = "/var/run/secrets/tokens/chainctl-token"
	EnvIdentityToken    = "CHAINCTL_IDENTITY_TOKEN"
)

const (
	// MaxTokenSize caps every token read from a variable, file, command or
	// HTTP response.
	MaxTokenSize = 16 << 10
	// DefaultTimeout bounds each HTTP request and command execution.
	DefaultTimeout = 10 * time.Second
	// maxResponseSize caps the JSON body of a token endpoint response.
	maxResponseSize = 2 * MaxTokenSize
)

// ErrNone is returned by Detect when no provider detects its environment.
var ErrNone = errors.New("no ambient credentials detected")

// Provider obtains an OIDC identity token from one CI platform or runtime.
// A Provider is bound to the Env it was built with by Providers.
type Provider interface {
	// Name is one of the provider name constants.
	Name() string
	// Detect reports whether the provider's environment is present. It does
	// no network or command I/O.
	Detect() bool
	// Token returns a trimmed identity token for audience. Providers whose
	// audience is fixed by the platform (CircleCI, Kubernetes, the generic
	// token) ignore audience. Errors never contain a token or request token.
	Token(ctx context.Context, audience string) (string, error)
}

// DetectedError reports that a provider detected its environment but could
// not produce a token. Detect does not fall through to later providers in
// that case: a half-configured CI job should fail loudly rather than log in
// as something else.
type DetectedError struct {
	Provider string
	Err      error
}

func (e *DetectedError) Error() string {
	return fmt.Sprintf("ambient credentials: %s detected but no token obtained (later providers not tried): %v", e.Provider, e.Err)
}

func (e *DetectedError) Unwrap() error { return e.Err }

// Option configures Providers and Detect.
type Option func(*options)

type options struct {
	timeout        time.Duration
	gitlabVariable string
	k8sTokenPath   string
}

// WithTimeout bounds each HTTP request and command execution (default
// DefaultTimeout). Non-positive values are ignored.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithGitLabVariable names an additional `id_tokens:` variable to read,
// checked before DefaultGitLabVariable.
func WithGitLabVariable(name string) Option {
	return func(o *options) { o.gitlabVariable = strings.TrimSpace(name) }
}

// WithK8sTokenPath sets the projected service-account token path, taking
// precedence over CHAINCTL_K8S_TOKEN_PATH and DefaultK8sTokenPath.
func WithK8sTokenPath(path string) Option {
	return func(o *options) { o.k8sTokenPath = strings.TrimSpace(path) }
}

// Providers returns every provider in detection order:
// GitHub Actions, GitLab CI, Buildkite, CircleCI, Kubernetes, and the generic
// CHAINCTL_IDENTITY_TOKEN. The order is fixed; see the package documentation.
func Providers(env Env, opts ...Option) []Provider {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return []Provider{
		&githubProvider{env: env, timeout: o.timeout},
		&gitlabProvider{env: env, variable: o.gitlabVariable},
		&buildkiteProvider{env: env, timeout: o.timeout},
		&circleProvider{env: env},
		&k8sProvider{env: env, path: o.k8sTokenPath},
		&genericProvider{env: env},
	}
}

// Detect builds Providers(env, opts...) and returns the token of the first
// provider that detects its environment. It returns ErrNone if none does,
// and a *DetectedError if the first detected provider fails.
func Detect(ctx context.Context, env Env, audience string, opts ...Option) (name, token string, err error) {
	return DetectFrom(ctx, Providers(env, opts...), audience)
}

// DetectFrom is Detect over an explicit provider list, for callers that
// narrow or reorder the list.
func DetectFrom(ctx context.Context, providers []Provider, audience string) (name, token string, err error) {
	for _, p := range providers {
		if !p.Detect() {
			continue
		}
		tok, err := p.Token(ctx, audience)
		if err != nil {
			return p.Name(), "", &DetectedError{Provider: p.Name(), Err: err}
		}
		return p.Name(), tok, nil
	}
	return "", "", ErrNone
}

// cleanToken trims b and checks that it is a plausible bearer token: not
// empty, at most MaxTokenSize bytes, printable ASCII without spaces. The
// token never appears in the returned error.
func cleanToken(b []byte) (string, error) {
	if len(b) > MaxTokenSize+1024 { // allow surrounding whitespace
		return "", fmt.Errorf("token larger than %d bytes", MaxTokenSize)
	}
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return "", errors.New("token is empty")
	case len(s) > MaxTokenSize:
		return "", fmt.Errorf("token larger than %d bytes", MaxTokenSize)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return "", errors.New("token contains whitespace, control or non-ASCII characters")
		}
	}
	return s, nil
}

// lookup returns the trimmed value of key, and whether it is non-empty.
func lookup(env Env, key string) (string, bool) {
	v, ok := env.LookupEnv(key)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}
