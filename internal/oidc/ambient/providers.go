package ambient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// maxRawToken is how much is read from a file or command before trimming:
// a token plus some surrounding whitespace.
const maxRawToken = MaxTokenSize + 1024

// gitlabProvider reads an ID token GitLab injects through `id_tokens:`.
type gitlabProvider struct {
	env      Env
	variable string // optional, checked before DefaultGitLabVariable
}

func (*gitlabProvider) Name() string { return GitLabCI }

func (p *gitlabProvider) variables() []string {
	if p.variable != "" && p.variable != DefaultGitLabVariable {
		return []string{p.variable, DefaultGitLabVariable}
	}
	return []string{DefaultGitLabVariable}
}

func (p *gitlabProvider) Detect() bool {
	for _, v := range p.variables() {
		if _, ok := lookup(p.env, v); ok {
			return true
		}
	}
	return false
}

// Token implements Provider. The audience is the `aud:` the job declared;
// it cannot be chosen here.
func (p *gitlabProvider) Token(_ context.Context, _ string) (string, error) {
	for _, v := range p.variables() {
		if val, ok := lookup(p.env, v); ok {
			tok, err := cleanToken([]byte(val))
			if err != nil {
				return "", fmt.Errorf("%s: %w", v, err)
			}
			return tok, nil
		}
	}
	return "", fmt.Errorf("%s is not set", DefaultGitLabVariable)
}

// buildkiteProvider runs `buildkite-agent oidc request-token`.
type buildkiteProvider struct {
	env     Env
	timeout time.Duration
}

func (*buildkiteProvider) Name() string { return Buildkite }

func (p *buildkiteProvider) Detect() bool {
	v, _ := lookup(p.env, EnvBuildkite)
	if v != "true" {
		return false
	}
	_, err := p.env.LookPath(BuildkiteAgent)
	return err == nil
}

func (p *buildkiteProvider) Token(ctx context.Context, audience string) (string, error) {
	agent, err := p.env.LookPath(BuildkiteAgent)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", BuildkiteAgent, err)
	}
	args := []string{"oidc", "request-token"}
	if audience != "" {
		args = append(args, "--audience", audience)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	out, err := p.env.Run(ctx, agent, args...)
	if err != nil {
		return "", fmt.Errorf("%s oidc request-token: %w", BuildkiteAgent, err)
	}
	if len(out) > maxRawToken {
		return "", fmt.Errorf("%s oidc request-token: output larger than %d bytes", BuildkiteAgent, maxRawToken)
	}
	tok, err := cleanToken(out)
	if err != nil {
		return "", fmt.Errorf("%s oidc request-token: %w", BuildkiteAgent, err)
	}
	return tok, nil
}

// circleProvider reads the token CircleCI puts in the job's environment.
type circleProvider struct {
	env Env
}

func (*circleProvider) Name() string { return CircleCI }

func (p *circleProvider) Detect() bool {
	_, v2 := lookup(p.env, EnvCircleOIDCTokenV2)
	_, v1 := lookup(p.env, EnvCircleOIDCToken)
	return v2 || v1
}

// Token implements Provider. CircleCI fixes the audience to the
// organization id, so audience is ignored; the registry identity must
// accept that audience.
func (p *circleProvider) Token(_ context.Context, _ string) (string, error) {
	for _, v := range []string{EnvCircleOIDCTokenV2, EnvCircleOIDCToken} {
		if val, ok := lookup(p.env, v); ok {
			tok, err := cleanToken([]byte(val))
			if err != nil {
				return "", fmt.Errorf("%s: %w", v, err)
			}
			return tok, nil
		}
	}
	return "", fmt.Errorf("%s is not set", EnvCircleOIDCTokenV2)
}

// k8sProvider reads a projected service-account token file. The kubelet
// rotates the file in place, so it is read afresh on every call.
type k8sProvider struct {
	env  Env
	path string // from WithK8sTokenPath; empty means env var, then default
}

func (*k8sProvider) Name() string { return Kubernetes }

// resolve returns the token path and whether it was configured explicitly.
func (p *k8sProvider) resolve() (path string, explicit bool) {
	if p.path != "" {
		return p.path, true
	}
	if v, ok := lookup(p.env, EnvK8sTokenPath); ok {
		return v, true
	}
	return DefaultK8sTokenPath, false
}

// Detect implements Provider. An explicitly configured path counts as
// detected even when the file is missing, so a broken mount is reported
// instead of skipped; the default path counts only if the file exists.
func (p *k8sProvider) Detect() bool {
	path, explicit := p.resolve()
	return explicit || fileExists(p.env, path)
}

func (p *k8sProvider) Token(_ context.Context, _ string) (string, error) {
	path, _ := p.resolve()
	b, err := readFileCapped(p.env, path, maxRawToken)
	if err != nil {
		return "", fmt.Errorf("projected service-account token: %w", err)
	}
	tok, err := cleanToken(b)
	if err != nil {
		return "", fmt.Errorf("projected service-account token %s: %w", path, err)
	}
	return tok, nil
}

// genericProvider reads CHAINCTL_IDENTITY_TOKEN: a JWT, or the path of a
// file holding one.
type genericProvider struct {
	env Env
}

func (*genericProvider) Name() string { return IdentityToken }

func (p *genericProvider) Detect() bool {
	_, ok := lookup(p.env, EnvIdentityToken)
	return ok
}

// Token implements Provider. A value that looks like a JWT is the token;
// anything else is read as a file path. Errors never echo the value, since
// a malformed token is still a secret.
func (p *genericProvider) Token(_ context.Context, _ string) (string, error) {
	val, _ := lookup(p.env, EnvIdentityToken)
	if looksLikeJWT(val) {
		tok, err := cleanToken([]byte(val))
		if err != nil {
			return "", fmt.Errorf("%s: %w", EnvIdentityToken, err)
		}
		return tok, nil
	}
	b, err := readFileCapped(p.env, val, maxRawToken)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // the path is the value: leave it out
			err = pe.Err
		}
		return "", fmt.Errorf("%s is not a JWT, and reading it as a file path failed: %w", EnvIdentityToken, err)
	}
	tok, err := cleanToken(b)
	if err != nil {
		return "", fmt.Errorf("%s file: %w", EnvIdentityToken, err)
	}
	return tok, nil
}

// looksLikeJWT reports whether s has the JWS compact shape: three
// base64url segments whose first decodes to a JSON object.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, part := range parts {
		if part == "" {
			return false
		}
		if _, err := base64.RawURLEncoding.DecodeString(part); err != nil {
			return false
		}
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	header = bytes.TrimSpace(header)
	return len(header) > 0 && header[0] == '{' && json.Valid(header)
}
