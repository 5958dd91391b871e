package shared

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/policy"
)

// TestClient checks each typed call's method, path (an id is one escaped
// segment), body and decoding against the stub registry, which fails on
// any request it was not told of.
func TestClient(t *testing.T) {
	reg := apitest.New(t,
		apitest.Stub{Method: "GET", Path: "/api/v1/identities", Status: 200, Body: `{"identities":[{"id":"a","issuer":"https://i.example","source":"config"}]}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/identities/a%2Fb", Status: 200, Body: `{"id":"a/b","created_by":"alice"}`},
		apitest.Stub{Method: "POST", Path: "/api/v1/identities", WantBody: `{"id":"ci","issuer":"https://i.example","subject":"s","roles":[{"role":"viewer","repositories":["a"]}]}`, Status: 201, Body: `{"id":"ci","source":"api"}`},
		apitest.Stub{Method: "DELETE", Path: "/api/v1/identities/ci", Status: 204},
		apitest.Stub{Method: "POST", Path: "/api/v1/identities/test", WantBody: `{"token":"x.y.z"}`, Status: 200, Body: `{"issuer":"i","subject":"s","results":[{"id":"ci","matched":true}]}`},
	)
	hc, _ := reg.HTTPClient()
	c, err := api.New(hc, apitest.URL, apitest.Token)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	ids, err := ListIdentities(ctx, c)
	if err != nil || len(ids) != 1 || ids[0].ID != "a" || ids[0].Source != "config" {
		t.Errorf("ListIdentities() = %+v, %v", ids, err)
	}
	id, err := GetIdentity(ctx, c, "a/b")
	if err != nil || id.ID != "a/b" || id.CreatedBy != "alice" {
		t.Errorf("GetIdentity(a/b) = %+v, %v", id, err)
	}
	created, err := CreateIdentity(ctx, c, policy.Identity{ID: "ci", Issuer: "https://i.example", Subject: "s",
		Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"a"}}}})
	if err != nil || created.ID != "ci" || created.Source != "api" {
		t.Errorf("CreateIdentity() = %+v, %v", created, err)
	}
	if err := DeleteIdentity(ctx, c, "ci"); err != nil {
		t.Errorf("DeleteIdentity(ci) = %v", err)
	}
	res, err := TestToken(ctx, c, "x.y.z")
	want := &TestResult{Issuer: "i", Subject: "s", Results: []MatchResult{{ID: "ci", Matched: true}}}
	if err != nil || !reflect.DeepEqual(res, want) {
		t.Errorf("TestToken() = %+v, %v, want %+v", res, err, want)
	}
}

func TestMapError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		id       string
		want     string
		wantAuth bool
		wantHint string
	}{
		{name: "401", err: &api.Error{Status: 401, Code: "unauthorized", Message: "expired"}, want: "the registry refused the session token: expired", wantAuth: true, wantHint: "chainctl auth login"},
		{name: "403", err: &api.Error{Status: 403, Code: "forbidden", Message: "not owner"}, want: "permission denied: not owner", wantAuth: true, wantHint: "managing identities needs the owner role"},
		{name: "404", err: &api.Error{Status: 404, Code: "not_found", Message: "x"}, id: "ci", want: `no identity "ci"`},
		{name: "404 without an id", err: &api.Error{Status: 404, Code: "not_found", Message: "no route"}, want: "no route"},
		{name: "409", err: &api.Error{Status: 409, Code: "conflict", Message: "taken"}, want: "taken"},
		{name: "no body", err: &api.Error{Status: http.StatusBadGateway}, want: "Bad Gateway"},
		{name: "other", err: errors.New("dial"), want: "dial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MapError(tt.err, tt.id)
			var ae *cmdutil.AuthError
			if got.Error() != tt.want || errors.As(got, &ae) != tt.wantAuth {
				t.Errorf("MapError(%v) = %q (%T), want %q, AuthError %v", tt.err, got, got, tt.want, tt.wantAuth)
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(got, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
				t.Errorf("MapError(%v) = %v, want a hint with %q", tt.err, got, tt.wantHint)
			}
		})
	}
}
