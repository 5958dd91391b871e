// Package sessiontest stubs a registry's login endpoints at the HTTP
// transport (discovery, token exchange, Docker token endpoint) and the
// ambient environment, for tests of session and the auth commands.
package sessiontest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
)

// Host, URL and the tokens the stub deals in.
const (
	Host         = "registry.test"
	URL          = "https://" + Host
	Service      = "registry.test"
	SessionToken = "session-token-s3cret"
	AccessToken  = "access-token-s3cret"
	Identity     = "dev-user"
)

// IDToken returns an unsigned JWT-shaped token naming sub (the stub does
// not verify it).
func IDToken(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(map[string]any{"iss": "https://idp.test", "sub": sub})
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + ".c2ln"
}

// Registry answers GET /.well-known/chainctl-configuration, POST
// /oauth/token and GET /token on URL; anything else fails the test.
type Registry struct {
	t  *testing.T
	mu sync.Mutex
	// ExchangeStatus and ExchangeBody override the exchange response.
	ExchangeStatus int
	ExchangeBody   string
	// Exchanges counts token exchanges; Subjects records their tokens.
	Exchanges int
	Subjects  []string
	// TokenQueries records /token query strings.
	TokenQueries []string
}

// New returns a stub registry.
func New(t *testing.T) *Registry { return &Registry{t: t} }

// Client returns an *http.Client on the stub.
func (r *Registry) Client() *http.Client { return &http.Client{Transport: r} }

// HTTPClient is Client in the Factory's shape.
func (r *Registry) HTTPClient() (*http.Client, error) { return r.Client(), nil }

func reply(req *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewBufferString(body)), Request: req,
	}
}

// RoundTrip implements http.RoundTripper.
func (r *Registry) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.URL.Host != Host || req.URL.Scheme != "https" {
		r.t.Errorf("unexpected request %s %s", req.Method, req.URL)
		return nil, fmt.Errorf("no stub for %s", req.URL)
	}
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/.well-known/chainctl-configuration":
		return reply(req, 200, `{"issuer":"https://idp.test","client_id":"chainctl","token_exchange_endpoint":"/oauth/token","token_endpoint":"/token","service":"`+Service+`"}`), nil
	case req.Method == http.MethodPost && req.URL.Path == "/oauth/token":
		if err := req.ParseForm(); err != nil {
			r.t.Errorf("exchange: %v", err)
		}
		r.Exchanges++
		r.Subjects = append(r.Subjects, req.PostForm.Get("subject_token"))
		if r.ExchangeStatus != 0 {
			return reply(req, r.ExchangeStatus, r.ExchangeBody), nil
		}
		ident := req.PostForm.Get("identity")
		if ident == "" {
			ident = Identity
		}
		return reply(req, 200, `{"access_token":"`+SessionToken+`","token_type":"Bearer","expires_in":3600,"identity":"`+ident+`"}`), nil
	case req.Method == http.MethodGet && req.URL.Path == "/token":
		r.TokenQueries = append(r.TokenQueries, req.URL.RawQuery)
		if u, p, ok := req.BasicAuth(); !ok || u != "_token" || p != SessionToken {
			return reply(req, 401, `{"error":"invalid_token","error_description":"bad credentials"}`), nil
		}
		return reply(req, 200, `{"token":"`+AccessToken+`","access_token":"`+AccessToken+`","expires_in":300}`), nil
	}
	r.t.Errorf("unexpected request %s %s", req.Method, req.URL)
	return nil, fmt.Errorf("no stub for %s %s", req.Method, req.URL)
}

// Env is an ambient.Env with only environment variables.
type Env map[string]string

// LookupEnv implements ambient.Env.
func (e Env) LookupEnv(k string) (string, bool) { v, ok := e[k]; return v, ok }

// Open implements ambient.Env; there are no files.
func (Env) Open(string) (fs.File, error) { return nil, os.ErrNotExist }

// LookPath implements ambient.Env; there are no commands.
func (Env) LookPath(string) (string, error) { return "", os.ErrNotExist }

// Run implements ambient.Env.
func (Env) Run(context.Context, string, ...string) ([]byte, error) {
	return nil, os.ErrNotExist
}

// HTTPClient implements ambient.Env.
func (Env) HTTPClient() *http.Client { return &http.Client{Transport: failTransport{}} }

type failTransport struct{}

func (failTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no network in tests: %s", strings.TrimSpace(req.URL.Host))
}
