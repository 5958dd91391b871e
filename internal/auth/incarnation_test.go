package auth_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/policy"
)

// TestRecreatedIdentityDoesNotReviveTokens: an identity deleted and
// created again under the same id, for another subject, is another
// incarnation; the sessions and access tokens of the first stay refused,
// here at once and on another replica after its refresh.
func TestRecreatedIdentityDoesNotReviveTokens(t *testing.T) {
	f := newAPIFixture(t)
	owner := f.session(t, "400")
	create := func(repoID string) {
		t.Helper()
		id := f.staticIdentity(ciIdentity("gamma", repoID, policy.RolePusher, "team/app"))
		if status, body := f.api(t, "POST", "/api/v1/identities", owner, id); status != 201 {
			t.Fatalf("POST gamma = %d %v", status, body)
		}
	}
	create("401")
	session := f.session(t, "401")
	status, body := f.getToken(t, session, "repository:team/app:pull,push")
	if status != 200 {
		t.Fatalf("/token with gamma's session = %d %v", status, body)
	}
	access := body["token"].(string)
	if err := f.authorize(access, "team/app", "push"); err != nil {
		t.Fatalf("push with gamma's access token = %v", err)
	}
	replica, err := auth.NewService(f.opts...)
	if err != nil {
		t.Fatal(err)
	}
	other := *f
	other.svc = replica
	if err := other.authorize(access, "team/app", "push"); err != nil {
		t.Fatalf("push on the other replica = %v", err)
	}

	if status, body := f.api(t, "DELETE", "/api/v1/identities/gamma", owner, nil); status != 204 {
		t.Fatalf("DELETE gamma = %d %v", status, body)
	}
	create("402") // the same id, another subject
	f.clock.Advance(auth.DefaultIdentityRefresh + time.Second)

	if status, body := f.getToken(t, session, "repository:team/app:pull,push"); status != 401 {
		t.Errorf("/token with the first gamma's session = %d %v, want 401", status, body)
	}
	if status, body := f.api(t, "GET", "/api/v1/identities", session, nil); status != 401 {
		t.Errorf("API with the first gamma's session = %d %v, want 401", status, body)
	}
	for name, svc := range map[string]*fixture{"this replica": f, "the other replica": &other} {
		if got := challengeOf(t, svc.authorize(access, "team/app", "push")); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s: the first gamma's access token = %s, want invalid_token", name, got)
		}
	}
	// The new gamma works, with tokens of its own.
	fresh := f.session(t, "402")
	status, body = f.getToken(t, fresh, "repository:team/app:pull,push")
	if status != 200 {
		t.Fatalf("/token with the new gamma's session = %d %v", status, body)
	}
	if err := other.authorize(body["token"].(string), "team/app", "push"); err != nil {
		t.Errorf("push with the new gamma's token on the other replica = %v", err)
	}
}

// TestConfiguredIdentityIncarnation: a configured identity edited to
// accept another subject is another incarnation, so the old identity's
// sessions are refused after the restart; renaming it or changing its
// roles (which every request re-checks) keeps it the same incarnation.
func TestConfiguredIdentityIncarnation(t *testing.T) {
	f := newFixture(t)
	session := exchange(t, f, f.ciToken(t, "200"), "app-ci").AccessToken
	restarted := func(edit func(*policy.Identity)) *auth.Service {
		t.Helper()
		id := f.staticIdentity(ciIdentity("app-ci", "200", policy.RolePusher, "acme/app"))
		edit(&id)
		svc, err := auth.NewService(auth.WithSigner(f.iss), auth.WithServiceName(service),
			auth.WithRealm("https://"+service+"/token"), auth.WithServiceClock(f.clock.Now), auth.WithIdentities(id))
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	tests := []struct {
		name string
		edit func(*policy.Identity)
		ok   bool
	}{
		{"unchanged", func(*policy.Identity) {}, true},
		{"renamed, roles changed", func(id *policy.Identity) {
			id.Name = "the app's CI"
			id.Roles = []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"acme/*"}}}
		}, true},
		{"another repository id", func(id *policy.Identity) { id.Claims[1].Value = "201" }, false},
		{"a subject pinned", func(id *policy.Identity) { id.Subject = "repo:acme/app:ref:refs/heads/main" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := *f
			g.svc = restarted(tt.edit)
			g.srv = httptest.NewServer(withAPI(g.svc))
			defer g.srv.Close()
			status, body := g.getToken(t, session, "repository:acme/app:pull")
			if tt.ok != (status == 200) {
				t.Errorf("/token with the session after the restart = %d %v, want success %v", status, body, tt.ok)
			}
		})
	}
}
