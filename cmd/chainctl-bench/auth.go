package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Docker token authentication, as a registry client does it
// (https://distribution.github.io/distribution/spec/auth/token/): a
// request without a token is answered 401 with
//
//	WWW-Authenticate: Bearer realm="https://r.example/token",service="r.example",scope="repository:app:pull"
//
// and the client asks the realm for an access token with
// GET <realm>?service=<service>&scope=<scope>, sending its credential as
// HTTP Basic, and repeats the request with "Authorization: Bearer <token>".

// Token refresh: an access token is replaced when less than
// refreshMargin of it remains (or half its lifetime, for tokens shorter
// than two margins), so that no request of a load phase carries a token
// that expires in flight.
const (
	refreshMargin = 60 * time.Second
	// defaultTokenLifetime is what the token spec says to assume when the
	// answer has no expires_in.
	defaultTokenLifetime = 60 * time.Second
	maxTokenResponse     = 1 << 20
)

// credential returns the password for the token endpoint of service:
// for chainctl, an upstream OIDC token whose audience is the service.
// It is called for every token request, so a long run never sends an
// expired one.
type credential func(service string, now time.Time) (string, error)

// fixedCredential is a credential that is the same for every request: a
// session token, or a pull token's secret.
func fixedCredential(password string) credential {
	return func(string, time.Time) (string, error) { return password, nil }
}

// tokenSource gets access tokens for one registry and caches them per
// scope set. It is safe for concurrent use; concurrent callers that need
// a token wait for one request to the token endpoint.
type tokenSource struct {
	hc       *http.Client
	base     *url.URL // the registry
	user     string
	password credential
	now      func() time.Time

	fetch sync.Mutex // serialises discovery and token requests

	mu         sync.Mutex // guards the fields below
	discovered bool
	realm      string // "" when the registry wants no token
	service    string
	tokens     map[string]accessToken // by scope set
}

// accessToken is a cached token, as the Authorization header value.
type accessToken struct {
	header    string
	refreshAt time.Time
	// scope is what the answer says was granted, "" if it does not say
	// (the token spec leaves it out; chainctl's answer has it).
	scope string
}

func newTokenSource(hc *http.Client, base *url.URL, user string, password credential, now func() time.Time) *tokenSource {
	return &tokenSource{hc: hc, base: base, user: user, password: password, now: now, tokens: map[string]accessToken{}}
}

// required reports whether the registry wants tokens: whether GET /v2/
// without one is answered 401 with a Bearer challenge rather than 200.
func (ts *tokenSource) required(ctx context.Context) (bool, error) {
	realm, _, err := ts.endpoint(ctx)
	return realm != "", err
}

// endpoint returns the token endpoint and service name the registry's
// challenge names; realm is "" when the registry wants no token.
func (ts *tokenSource) endpoint(ctx context.Context) (realm, service string, err error) {
	ts.fetch.Lock()
	defer ts.fetch.Unlock()
	return ts.discover(ctx)
}

// header returns the Authorization header value for a request that needs
// scopes, or "" if the registry wants no token. It asks the token
// endpoint only on first use of a scope set and when the cached token
// nears its expiry.
func (ts *tokenSource) header(ctx context.Context, scopes ...string) (string, error) {
	key := scopeKey(scopes)
	if h, ok := ts.cached(key); ok {
		return h, nil
	}
	ts.fetch.Lock()
	defer ts.fetch.Unlock()
	if h, ok := ts.cached(key); ok { // another caller fetched it meanwhile
		return h, nil
	}
	realm, service, err := ts.discover(ctx)
	if err != nil || realm == "" {
		return "", err
	}
	tok, err := ts.request(ctx, realm, service, scopes)
	if err != nil {
		return "", err
	}
	ts.mu.Lock()
	ts.tokens[key] = tok
	ts.mu.Unlock()
	return tok.header, nil
}

func scopeKey(scopes []string) string {
	if len(scopes) > 1 {
		scopes = slices.Sorted(slices.Values(scopes))
	}
	return strings.Join(scopes, " ")
}

// cached returns a cached header that needs no refresh yet.
func (ts *tokenSource) cached(key string) (string, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.discovered && ts.realm == "" {
		return "", true
	}
	tok, ok := ts.tokens[key]
	if !ok || !ts.now().Before(tok.refreshAt) {
		return "", false
	}
	return tok.header, true
}

// discover pings /v2/ once, without a token, and remembers the challenge.
// The caller holds ts.fetch.
func (ts *tokenSource) discover(ctx context.Context) (realm, service string, err error) {
	ts.mu.Lock()
	done, realm, service := ts.discovered, ts.realm, ts.service
	ts.mu.Unlock()
	if done {
		return realm, service, nil
	}
	u := *ts.base
	u.Path, u.RawQuery = "/v2/", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", "", err
	}
	resp, err := ts.hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("discover authentication: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		r, s, err := bearerChallenge(resp.Header.Values("WWW-Authenticate"))
		if err != nil {
			return "", "", fmt.Errorf("discover authentication: GET /v2/: %w", err)
		}
		ru, err := ts.base.Parse(r) // a relative realm is relative to the registry
		if err != nil {
			return "", "", fmt.Errorf("discover authentication: realm %q: %w", r, err)
		}
		realm, service = ru.String(), s
	default:
		return "", "", fmt.Errorf("discover authentication: GET /v2/: %s", resp.Status)
	}
	ts.mu.Lock()
	ts.discovered, ts.realm, ts.service = true, realm, service
	ts.mu.Unlock()
	return realm, service, nil
}

// tokenResponse is the token endpoint's answer: "token", or its OAuth2
// alias "access_token", the lifetime in seconds and, optionally, the
// scopes granted (RFC 6749 §5.1).
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// request asks the realm for a token for scopes. It is safe for
// concurrent use, and it caches nothing: every call is one request to the
// token endpoint.
func (ts *tokenSource) request(ctx context.Context, realm, service string, scopes []string) (accessToken, error) {
	if ts.password == nil {
		return accessToken{}, errors.New("the registry wants bearer tokens, and the benchmark has no credential for it")
	}
	issued := ts.now()
	pw, err := ts.password(service, issued)
	if err != nil {
		return accessToken{}, fmt.Errorf("credential for the token endpoint: %w", err)
	}
	u, err := url.Parse(realm)
	if err != nil {
		return accessToken{}, fmt.Errorf("token realm %q: %w", realm, err)
	}
	q := u.Query()
	if service != "" {
		q.Set("service", service)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return accessToken{}, err
	}
	req.SetBasicAuth(ts.user, pw)
	resp, err := ts.hc.Do(req)
	if err != nil {
		return accessToken{}, fmt.Errorf("get token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return accessToken{}, fmt.Errorf("get token: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		excerpt := string(body[:min(len(body), 512)])
		return accessToken{}, fmt.Errorf("get token for %q: %w", scopes,
			&statusError{method: req.Method, path: req.URL.Path, status: resp.Status, body: strings.TrimSpace(excerpt)})
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return accessToken{}, fmt.Errorf("get token: decode answer: %w", err)
	}
	tok := cmp.Or(tr.AccessToken, tr.Token)
	if tok == "" {
		return accessToken{}, errors.New("get token: the answer holds no token")
	}
	life := defaultTokenLifetime
	if tr.ExpiresIn > 0 {
		life = time.Duration(tr.ExpiresIn) * time.Second
	}
	return accessToken{header: "Bearer " + tok, refreshAt: issued.Add(life - min(refreshMargin, life/2)), scope: tr.Scope}, nil
}
