package apiv1_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/apiv1"
	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/policy"
)

// fakeIdentities answers as configured and records what it was asked.
type fakeIdentities struct {
	err    error // returned by every operation but Caller
	called []string
}

func (f *fakeIdentities) Caller(_ context.Context, tok string) (*auth.Caller, error) {
	if tok != "good" {
		return nil, &auth.Error{Kind: auth.KindUnauthenticated, Message: "a session token is required"}
	}
	return &auth.Caller{ID: "owner"}, nil
}
func (f *fakeIdentities) Identities(context.Context, *auth.Caller) []auth.IdentityView {
	f.called = append(f.called, "list")
	return []auth.IdentityView{{Identity: policy.Identity{ID: "a"}, Source: auth.SourceConfig}}
}
func (f *fakeIdentities) Identity(_ context.Context, _ *auth.Caller, id string) (auth.IdentityView, error) {
	f.called = append(f.called, "get "+id)
	return auth.IdentityView{Identity: policy.Identity{ID: id}}, f.err
}
func (f *fakeIdentities) CreateIdentity(_ context.Context, _ *auth.Caller, id policy.Identity) (auth.IdentityView, error) {
	f.called = append(f.called, "create "+id.ID)
	return auth.IdentityView{Identity: id}, f.err
}
func (f *fakeIdentities) DeleteIdentity(_ context.Context, _ *auth.Caller, id string) error {
	f.called = append(f.called, "delete "+id)
	return f.err
}
func (f *fakeIdentities) TestToken(context.Context, *auth.Caller, string) auth.TestResult {
	f.called = append(f.called, "test")
	return auth.TestResult{Issuer: "https://ci", Subject: "x"}
}

func TestAPI(t *testing.T) {
	secret := errors.New("pq: password authentication failed for user secret-user")
	tests := []struct {
		name, method, path, token, body string
		err                             error
		status                          int
		code                            string
		called                          string
		header                          map[string]string
	}{
		{name: "no session", method: "GET", path: "/api/v1/identities", status: 401, code: "unauthorized",
			header: map[string]string{"Www-Authenticate": `Bearer realm="registry.test"`}},
		{name: "list", method: "GET", path: "/api/v1/identities", token: "good", status: 200, called: "list"},
		{name: "get", method: "GET", path: "/api/v1/identities/a", token: "good", status: 200, called: "get a"},
		{name: "create", method: "POST", path: "/api/v1/identities", token: "good", body: `{"id":"new"}`, status: 201, called: "create new"},
		{name: "create, unknown field", method: "POST", path: "/api/v1/identities", token: "good", body: `{"idd":"x"}`, status: 400, code: "invalid"},
		{name: "delete", method: "DELETE", path: "/api/v1/identities/a", token: "good", status: 204, called: "delete a"},
		{name: "test with no results", method: "POST", path: "/api/v1/identities/test", token: "good", body: `{"token":"t"}`, status: 200, called: "test"},
		{name: "unknown resource", method: "GET", path: "/api/v1/nope", token: "good", status: 404, code: "not_found"},
		{name: "nested id", method: "GET", path: "/api/v1/identities/a/b", token: "good", status: 404, code: "not_found"},
		{name: "wrong method", method: "PUT", path: "/api/v1/identities/a", token: "good", status: 405, code: "invalid",
			header: map[string]string{"Allow": "GET, DELETE"}},
		{name: "forbidden", method: "DELETE", path: "/api/v1/identities/a", token: "good", status: 403, code: "forbidden",
			err: &auth.Error{Kind: auth.KindForbidden, Message: "only owners"}, called: "delete a"},
		{name: "conflict", method: "DELETE", path: "/api/v1/identities/a", token: "good", status: 409, code: "conflict",
			err: &auth.Error{Kind: auth.KindConflict, Message: "configured"}, called: "delete a"},
		{name: "internal failure", method: "GET", path: "/api/v1/identities/a", token: "good", status: 500, code: "internal",
			err: secret, called: "get a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeIdentities{err: tt.err}
			var logged strings.Builder
			srv := httptest.NewServer(apiv1.New(f, apiv1.WithRealm("registry.test"), apiv1.WithLogger(slog.New(slog.NewTextHandler(&logged, nil)))))
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
			}
			if tt.code != "" {
				var e struct{ Error, Message string }
				if err := json.Unmarshal(b, &e); err != nil || e.Error != tt.code {
					t.Errorf("body %s, want error code %q", b, tt.code)
				}
			}
			for k, v := range tt.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := strings.Join(f.called, ","); got != tt.called {
				t.Errorf("operations called: %q, want %q", got, tt.called)
			}
			if tt.err == secret {
				if strings.Contains(string(b), "secret-user") || !strings.Contains(logged.String(), "secret-user") {
					t.Errorf("an internal failure: body %s, log %s; want it logged, not answered", b, logged.String())
				}
			}
			if tt.name == "test with no results" && !strings.Contains(string(b), `"results":[]`) {
				t.Errorf("a verified token with no visible identity: %s, want an empty results list", b)
			}
		})
	}
}
