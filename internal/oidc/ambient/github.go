package ambient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// githubProvider asks the GitHub Actions OIDC endpoint for a token. The job
// needs `permissions: id-token: write`, without which the runner does not
// set the two variables at all.
type githubProvider struct {
	env     Env
	timeout time.Duration
}

func (*githubProvider) Name() string { return GitHubActions }

func (p *githubProvider) Detect() bool {
	_, okURL := lookup(p.env, EnvGitHubRequestURL)
	_, okTok := lookup(p.env, EnvGitHubRequestToken)
	return okURL && okTok
}

// Token implements Provider: GET <url>&audience=<aud> with the request token
// as a bearer token, answered by {"value": "<id token>"}.
func (p *githubProvider) Token(ctx context.Context, audience string) (string, error) {
	rawURL, _ := lookup(p.env, EnvGitHubRequestURL)
	reqTokRaw, _ := lookup(p.env, EnvGitHubRequestToken)
	reqTok, err := cleanToken([]byte(reqTokRaw))
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvGitHubRequestToken, err)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%s is not an absolute URL", EnvGitHubRequestURL)
	}
	if !secureURL(u) {
		return "", fmt.Errorf("%s must use https (http only on loopback), got %q", EnvGitHubRequestURL, u.Scheme)
	}
	if audience != "" {
		q := u.Query()
		q.Set("audience", audience)
		u.RawQuery = q.Encode()
	}

	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("build token request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+reqTok)
	req.Header.Set("Accept", "application/json")

	resp, err := noRedirects(p.env.HTTPClient()).Do(req)
	if err != nil {
		// *url.Error repeats the URL; the cause is what matters.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("request token from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseSize))
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (request token rejected; does the job have `permissions: id-token: write`?)"
		}
		return "", fmt.Errorf("token endpoint %s answered %s%s", u.Host, resp.Status, hint)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return "", fmt.Errorf("read token response: %w", err)
	}
	if len(body) > maxResponseSize {
		return "", fmt.Errorf("token response larger than %d bytes", maxResponseSize)
	}
	var v struct {
		Value string `json:"value"`
	}
	// The decode error is not wrapped: it could quote the body.
	if err := json.Unmarshal(body, &v); err != nil {
		return "", errors.New("token response is not a JSON object with a string \"value\"")
	}
	if v.Value == "" {
		return "", errors.New("token response has no \"value\"")
	}
	return cleanToken([]byte(v.Value))
}

// secureURL allows https anywhere and plain http only to a loopback host,
// so a test stand-in can run on httptest without TLS.
func secureURL(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// noRedirects returns a copy of c that refuses to follow redirects, so the
// request token is sent to exactly one URL.
func noRedirects(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}
