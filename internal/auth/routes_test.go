package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/policy"
)

// TestRoutes: the service lists its endpoints once, with the names the
// metrics use, and Handler serves exactly those, the login configuration
// included when one is set.
func TestRoutes(t *testing.T) {
	login := auth.LoginConfig{Issuer: "https://idp.example", ClientID: "chainctl", Service: "registry.test"}
	f := newFixtureWith(t, func(*fixture) []auth.ServiceOption {
		return []auth.ServiceOption{auth.WithLoginConfig(login)}
	})
	want := map[string]string{"/token": "token", "/oauth/token": "token-exchange", auth.LoginConfigPath: "oidc"}
	routes := f.svc.Routes()
	if len(routes) != len(want) {
		t.Errorf("Routes() = %d routes, want %d", len(routes), len(want))
	}
	for _, r := range routes {
		if want[r.Path] != r.Name || r.Handler == nil {
			t.Errorf("route %s named %q (handler %v), want %q", r.Path, r.Name, r.Handler != nil, want[r.Path])
		}
	}
	srv := httptest.NewServer(f.svc.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + auth.LoginConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got auth.LoginConfig
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Issuer != login.Issuer || got.ClientID != login.ClientID {
		t.Errorf("GET %s = %d %+v, %v; want the login configuration", auth.LoginConfigPath, resp.StatusCode, got, err)
	}
}

// TestWithDiscovery: an identity whose issuer's keys are discovered needs
// a verifier for them; WithDiscovery makes one that the service itself
// tells which issuers may be fetched.
func TestWithDiscovery(t *testing.T) {
	id := policy.Identity{ID: "corp-alice", Issuer: "https://idp.corp.example", Subject: "alice",
		Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"team/app"}}}}
	if _, err := auth.NewService(fixtureOptions(t, auth.WithIdentities(id))...); err == nil {
		t.Error("NewService with a discovered issuer and no verifier = nil error")
	}
	svc, err := auth.NewService(fixtureOptions(t, auth.WithIdentities(id), auth.WithDiscovery())...)
	if err != nil {
		t.Fatalf("NewService with WithDiscovery = %v", err)
	}
	if is, ok, err := svc.LookupIssuer(t.Context(), id.Issuer); err != nil || !ok || is.URL != id.Issuer {
		t.Errorf("LookupIssuer(%s) = %+v, %v, %v", id.Issuer, is, ok, err)
	}
	if _, ok, _ := svc.LookupIssuer(t.Context(), "https://elsewhere.example"); ok {
		t.Error("LookupIssuer of an issuer no identity names = ok")
	}
}

// fixtureOptions are the least a service needs (a fixture's signer, a
// service name and realm), then more.
func fixtureOptions(t *testing.T, more ...auth.ServiceOption) []auth.ServiceOption {
	t.Helper()
	f := newFixture(t)
	return append([]auth.ServiceOption{auth.WithSigner(f.iss), auth.WithServiceName(service), auth.WithRealm("https://" + service + "/token")}, more...)
}
