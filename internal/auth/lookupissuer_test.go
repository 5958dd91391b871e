package auth_test

import (
	"testing"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
	"github.com/chainctl/chainctl/internal/policy"
)

// TestLookupIssuerPublicOnly checks that keys of an issuer only identities
// created through the API name are fetched from public addresses only,
// while an issuer the server's configuration names (an IdP on the
// operator's network) is not restricted, even when the API names it too.
func TestLookupIssuerPublicOnly(t *testing.T) {
	const corp, partner = "https://idp.corp.example", "https://ci.partner.example"
	viewer := []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"team/app"}}}
	f := newFixtureWith(t, func(f *fixture) []auth.ServiceOption {
		return []auth.ServiceOption{
			auth.WithUpstream(upstream.New()),
			auth.WithIdentities(
				f.staticIdentity(ciIdentity("team-owner", "400", policy.RoleOwner, "team/*")),
				policy.Identity{ID: "corp-alice", Issuer: corp, Subject: "alice", Roles: viewer},
			),
		}
	})
	owner := f.session(t, "400")
	for _, id := range []policy.Identity{
		{ID: "partner-ci", Issuer: partner, Subject: "pipeline-1", Roles: viewer},
		{ID: "corp-bob", Issuer: corp, Subject: "bob", Roles: viewer},
	} {
		if status, body := f.api(t, "POST", "/api/v1/identities", owner, id); status != 201 {
			t.Fatalf("POST %s = %d %v", id.ID, status, body)
		}
	}
	for _, tt := range []struct {
		iss                string
		wantOK, wantPublic bool
	}{
		{partner, true, true},
		{corp, true, false},
		{"https://unknown.example", false, false},
	} {
		is, ok, err := f.svc.LookupIssuer(t.Context(), tt.iss)
		if err != nil || ok != tt.wantOK || is.PublicOnly != tt.wantPublic {
			t.Errorf("LookupIssuer(%s) = %+v, %v, %v; want ok %v, PublicOnly %v", tt.iss, is, ok, err, tt.wantOK, tt.wantPublic)
		}
	}
}
