// Package sharedtest stubs the registry's identities API at the HTTP
// transport, for the tests of the identities commands.
package sharedtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"
)

// URL and Token are what tests put in the options: the registry and the
// session token the stub expects as a bearer credential.
const (
	URL   = "https://registry.test"
	Token = "s3cret-session-token"
)

// TokenSource returns Token, as the options' Token does.
func TokenSource() (string, error) { return Token, nil }

// Stub is one expected request and its canned response.
type Stub struct {
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

// HTTPClient returns a client on r, as the options' HTTPClient does.
func (r *Registry) HTTPClient() (*http.Client, error) { return &http.Client{Transport: r}, nil }

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

// LookupEnv returns a Factory.LookupEnv over env in which
// CHAINCTL_REGISTRY is URL unless env sets it, so that commands resolve a
// registry without reading the user's configuration file.
func LookupEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		if k == "CHAINCTL_REGISTRY" {
			return URL, true
		}
		return "", false
	}
}
