// Package apitest stubs a registry's /api/v1 at the HTTP transport, and
// the Factory, for the tests of commands built on package api.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// URL and Token are the registry and the session token the stub expects
// as a bearer credential.
const (
	URL   = "https://registry.test"
	Token = "s3cret-session-token"
)

// TokenSource returns Token, as a Remote's Token does.
func TokenSource(context.Context) (string, error) { return Token, nil }

// Stub is one expected request and its canned response.
type Stub struct {
	// Method and Path are matched exactly; Path is under URL and holds
	// any query, such as "/api/v1/identities/a%2Fb".
	Method, Path string
	// WantBody, if set, is JSON the request body must equal (compared
	// as decoded values).
	WantBody string
	Status   int
	Body     string
	used     bool
}

// Registry is an http.RoundTripper that answers registered stubs, each
// once, and fails the test on a request no stub matches, on a wrong
// Authorization header, and on stubs left unused at the end.
type Registry struct {
	t     *testing.T
	mu    sync.Mutex
	stubs []*Stub
}

// New returns a Registry that checks, when t ends, that every stub was used.
func New(t *testing.T, stubs ...Stub) *Registry {
	r := &Registry{t: t}
	for i := range stubs {
		r.stubs = append(r.stubs, &stubs[i])
	}
	t.Cleanup(func() {
		for _, s := range r.stubs {
			if !s.used {
				t.Errorf("stub %s %s was not requested", s.Method, s.Path)
			}
		}
	})
	return r
}

// HTTPClient returns a client on r, in the Factory's shape.
func (r *Registry) HTTPClient() (*http.Client, error) { return &http.Client{Transport: r}, nil }

// Remote returns an api.Remote for a run function's tests: ios, output
// (table if empty), URL, Token, and the HTTP client on r.
func (r *Registry) Remote(ios *iostreams.IOStreams, output cmdutil.OutputFormat) api.Remote {
	if output == "" {
		output = cmdutil.OutputTable
	}
	return api.Remote{IO: ios, HTTPClient: r.HTTPClient, Output: output, Registry: URL, Token: TokenSource}
}

// RoundTrip implements http.RoundTripper.
func (r *Registry) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, want := req.Header.Get("Authorization"), "Bearer "+Token; got != want {
		r.t.Errorf("%s %s: Authorization = %q, want %q", req.Method, req.URL, got, want)
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	for _, s := range r.stubs {
		if s.used || s.Method != req.Method || URL+s.Path != req.URL.String() {
			continue
		}
		s.used = true
		if s.WantBody != "" {
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				r.t.Errorf("%s %s: Content-Type = %q, want application/json", req.Method, s.Path, ct)
			}
			var got, want any
			if err := json.Unmarshal(body, &got); err != nil {
				r.t.Errorf("%s %s: body is not JSON: %v: %s", req.Method, s.Path, err, body)
			}
			if err := json.Unmarshal([]byte(s.WantBody), &want); err != nil {
				r.t.Fatalf("bad WantBody: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				r.t.Errorf("%s %s: body = %s, want %s", req.Method, s.Path, body, s.WantBody)
			}
		}
		return &http.Response{
			StatusCode: s.Status,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(bytes.NewBufferString(s.Body)),
			Request:    req,
		}, nil
	}
	r.t.Errorf("unexpected request %s %s", req.Method, req.URL)
	return nil, fmt.Errorf("no stub for %s %s", req.Method, req.URL)
}

// Factory returns a Factory for NewCmdX tests, with fakes: LookupEnv reads
// env; the user configuration names URL as the registry, so Registry
// answers --registry, else env's $CHAINCTL_REGISTRY, else URL; Session
// answers Token. Nothing reads the user's files or the process
// environment, and nothing is sent.
func Factory(ios *iostreams.IOStreams, output cmdutil.OutputFormat, env map[string]string) *cmdutil.Factory {
	f := &cmdutil.Factory{
		IOStreams:  ios,
		Globals:    &cmdutil.Globals{Output: output},
		LookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		UserConfig: func() (config.User, error) { return config.User{Registry: URL}, nil },
		Session: func(context.Context, session.Registry) (tokencache.Entry, error) {
			return tokencache.Entry{Kind: tokencache.KindSession, Token: Token}, nil
		},
	}
	f.Registry = func(flag string) (session.Registry, error) {
		return shared.ResolveRegistry(flag, f.LookupEnv, f.UserConfig)
	}
	return f
}
