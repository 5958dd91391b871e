package auth_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/apiv1"
	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/policy"
)

// newAPIFixture adds two owners to the fixture: team-owner of team/* (CI
// repository 400) and other-owner of other/* (500).
// withAPI serves the service's own routes and the management API over
// it, as registry serve mounts them.
func withAPI(svc *auth.Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", svc.Handler())
	mux.Handle(apiv1.Prefix, apiv1.New(svc, apiv1.WithPullTokens(svc), apiv1.WithRealm(service)))
	return mux
}

func newAPIFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(f *fixture) []auth.ServiceOption {
		return []auth.ServiceOption{auth.WithIdentities(
			f.staticIdentity(ciIdentity("team-owner", "400", policy.RoleOwner, "team/*")),
			f.staticIdentity(ciIdentity("other-owner", "500", policy.RoleOwner, "other/*")),
		)}
	})
}

func (f *fixture) staticIdentity(id policy.Identity) policy.Identity {
	id.IssuerKeys = policy.JWKS(f.ci.jwks)
	return id
}

// session exchanges a CI token of the repository id for a session.
func (f *fixture) session(t *testing.T, repoID string) string {
	t.Helper()
	r := exchange(t, f, f.ciToken(t, repoID), "")
	if r.Status != 200 {
		t.Fatalf("exchange for repository %s = %+v", repoID, r)
	}
	return r.AccessToken
}

// api calls the management API; body, unless nil, is sent as JSON.
func (f *fixture) api(t *testing.T, method, path, session string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		req.Header.Set("Authorization", "Bearer "+session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON", method, path, b)
		}
	}
	if ct := resp.Header.Get("Content-Type"); len(b) > 0 && ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, out
}

func ids(body map[string]any) []string {
	var out []string
	list, _ := body["identities"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestIdentitiesAPI(t *testing.T) {
	f := newAPIFixture(t)
	owner, other, pusher := f.session(t, "400"), f.session(t, "500"), f.session(t, "200")
	teamCI := f.staticIdentity(ciIdentity("team-ci", "401", policy.RolePusher, "team/app"))
	anySubject := f.staticIdentity(policy.Identity{ID: "any", Issuer: ciIssuer,
		Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"team/app"}}}})
	onOther := f.staticIdentity(ciIdentity("sneaky", "402", policy.RoleOwner, "other/app"))
	dupOfConfig := f.staticIdentity(ciIdentity("app-ci", "403", policy.RoleViewer, "team/x"))

	tests := []struct {
		name      string
		method    string
		path      string
		session   string
		body      any
		status    int
		code      string // the error code, for errors
		inMessage string // part of the error message
	}{
		{name: "no token", method: "GET", path: "/api/v1/identities", status: 401, code: "unauthorized"},
		{name: "upstream token as session", method: "GET", path: "/api/v1/identities", session: f.ciToken(t, "400"), status: 401, code: "unauthorized"},
		{name: "garbage token", method: "GET", path: "/api/v1/identities", session: "x.y.z", status: 401, code: "unauthorized"},
		{name: "pusher cannot create", method: "POST", path: "/api/v1/identities", session: pusher, body: teamCI, status: 403, code: "forbidden"},
		{name: "owner creates within its repositories", method: "POST", path: "/api/v1/identities", session: owner, body: teamCI, status: 201},
		{name: "duplicate", method: "POST", path: "/api/v1/identities", session: owner, body: teamCI, status: 409, code: "conflict"},
		{name: "duplicate of a config identity", method: "POST", path: "/api/v1/identities", session: owner, body: dupOfConfig, status: 409, code: "conflict", inMessage: "server configuration"},
		{name: "roles outside its repositories", method: "POST", path: "/api/v1/identities", session: owner, body: onOther, status: 403, code: "forbidden", inMessage: "other/app"},
		{name: "any subject", method: "POST", path: "/api/v1/identities", session: owner, body: anySubject, status: 400, code: "invalid", inMessage: "allow_any_subject"},
		{name: "unknown field", method: "POST", path: "/api/v1/identities", session: owner, body: map[string]any{"id": "x", "colour": "red"}, status: 400, code: "invalid", inMessage: "colour"},
		{name: "other owner does not see it", method: "GET", path: "/api/v1/identities/team-ci", session: other, status: 404, code: "not_found"},
		{name: "owner sees it", method: "GET", path: "/api/v1/identities/team-ci", session: owner, status: 200},
		{name: "a config identity outside its repositories", method: "GET", path: "/api/v1/identities/app-ci", session: owner, status: 404, code: "not_found"},
		{name: "config identity delete", method: "DELETE", path: "/api/v1/identities/team-owner", session: owner, status: 409, code: "conflict", inMessage: "defined in the server configuration"},
		{name: "delete by another owner", method: "DELETE", path: "/api/v1/identities/team-ci", session: other, status: 404, code: "not_found"},
		{name: "delete by a pusher", method: "DELETE", path: "/api/v1/identities/team-ci", session: pusher, status: 403, code: "forbidden"},
		{name: "unknown endpoint", method: "GET", path: "/api/v1/nothing", session: owner, status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.api(t, tt.method, tt.path, tt.session, tt.body)
			if status != tt.status {
				t.Fatalf("%s %s = %d %v, want %d", tt.method, tt.path, status, body, tt.status)
			}
			if tt.code != "" && body["error"] != tt.code {
				t.Errorf("%s %s: error = %v, want %s", tt.method, tt.path, body["error"], tt.code)
			}
			if msg, _ := body["message"].(string); tt.inMessage != "" && !strings.Contains(msg, tt.inMessage) {
				t.Errorf("%s %s: message %q does not mention %q", tt.method, tt.path, msg, tt.inMessage)
			}
		})
	}

	_, body := f.api(t, "GET", "/api/v1/identities/team-ci", owner, nil)
	if body["source"] != "api" || body["created_by"] != "team-owner" || body["issuer"] != ciIssuer {
		t.Errorf("GET team-ci = %v, want source api, created_by team-owner", body)
	}
	if _, err := time.Parse(time.RFC3339, body["created"].(string)); err != nil {
		t.Errorf("created = %v: %v", body["created"], err)
	}
	if status, body := f.api(t, "GET", "/api/v1/identities", owner, nil); status != 200 || strings.Join(ids(body), ",") != "team-owner,team-ci" {
		t.Errorf("owner's list = %d %v, want team-owner, team-ci", status, ids(body))
	}
	if status, body := f.api(t, "GET", "/api/v1/identities", pusher, nil); status != 200 || len(ids(body)) != 0 {
		t.Errorf("pusher's list = %d %v, want none", status, body)
	}
	if _, body := f.api(t, "GET", "/api/v1/identities", other, nil); strings.Join(ids(body), ",") != "other-owner" {
		t.Errorf("other owner's list = %v, want other-owner", ids(body))
	}

	// The new identity's tokens are accepted at once, at /token and at
	// the exchange.
	status, tok := f.getToken(t, f.ciToken(t, "401"), "repository:team/app:pull,push")
	if status != 200 || f.authorize(tok["token"].(string), "team/app", "push") != nil {
		t.Fatalf("/token with the new identity's token = %d %v", status, tok)
	}
	session := f.session(t, "401")

	if status, body := f.api(t, "DELETE", "/api/v1/identities/team-ci", owner, nil); status != 204 {
		t.Fatalf("DELETE team-ci = %d %v, want 204", status, body)
	}
	if status, body := f.getToken(t, session, "repository:team/app:pull"); status != 401 {
		t.Errorf("/token with a deleted identity's session = %d %v, want 401", status, body)
	}
	if status, body := f.getToken(t, f.ciToken(t, "401"), "repository:team/app:pull"); status != 401 {
		t.Errorf("/token with a deleted identity's upstream token = %d %v, want 401", status, body)
	}
	if status, body := f.api(t, "GET", "/api/v1/identities", session, nil); status != 401 {
		t.Errorf("API with a deleted identity's session = %d %v, want 401", status, body)
	}
	if status, _ := f.api(t, "DELETE", "/api/v1/identities/team-ci", owner, nil); status != 404 {
		t.Errorf("DELETE team-ci twice = %d, want 404", status)
	}
}

func TestIdentitiesAPIGeneratesID(t *testing.T) {
	f := newAPIFixture(t)
	id := f.staticIdentity(ciIdentity("", "401", policy.RoleViewer, "team/*"))
	status, body := f.api(t, "POST", "/api/v1/identities", f.session(t, "400"), id)
	if got, _ := body["id"].(string); status != 201 || !strings.HasPrefix(got, "id-") {
		t.Fatalf("POST without an id = %d %v, want 201 with a generated id", status, body)
	}
}

func TestIdentitiesAPIRequests(t *testing.T) {
	f := newAPIFixture(t)
	owner := f.session(t, "400")
	post := func(ct, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/identities", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+owner)
		req.Header.Set("Content-Type", ct)
		return do(t, req)
	}
	if status, body := post("text/plain", "{}"); status != 415 || body["error"] != "invalid" {
		t.Errorf("text/plain body = %d %v, want 415 invalid", status, body)
	}
	if status, body := post("application/json", `{"id":"a"} {}`); status != 400 {
		t.Errorf("trailing data = %d %v, want 400", status, body)
	}
	if status, body := post("application/json", `{"name":"`+strings.Repeat("a", 70<<10)+`"}`); status != 413 {
		t.Errorf("oversized body = %d %v, want 413", status, body)
	}
}

// Another replica sharing the store sees an identity created through
// this one once its refresh interval has passed.
func TestIdentitiesOtherReplica(t *testing.T) {
	f := newAPIFixture(t)
	replica, err := auth.NewService(f.opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withAPI(replica))
	defer srv.Close()
	g := *f
	g.srv = srv
	// The replica loads the store on its first request.
	if status, _ := g.getToken(t, f.ciToken(t, "401"), "repository:team/app:pull"); status != 401 {
		t.Fatalf("replica /token before the identity exists = %d, want 401", status)
	}
	id := f.staticIdentity(ciIdentity("team-ci", "401", policy.RoleViewer, "team/app"))
	if status, body := f.api(t, "POST", "/api/v1/identities", f.session(t, "400"), id); status != 201 {
		t.Fatalf("POST = %d %v", status, body)
	}
	f.clock.Advance(auth.DefaultIdentityRefresh + time.Second)
	if status, body := g.getToken(t, f.ciToken(t, "401"), "repository:team/app:pull"); status != 200 {
		t.Errorf("replica /token after the refresh interval = %d %v, want 200", status, body)
	}
}

func TestIdentitiesTest(t *testing.T) {
	f := newAPIFixture(t)
	owner := f.session(t, "400")
	id := f.staticIdentity(ciIdentity("team-ci", "401", policy.RolePusher, "team/app"))
	if status, body := f.api(t, "POST", "/api/v1/identities", owner, id); status != 201 {
		t.Fatalf("POST = %d %v", status, body)
	}
	now := f.clock.Now()
	test := func(tok string) map[string]any {
		t.Helper()
		status, body := f.api(t, "POST", "/api/v1/identities/test", owner, map[string]string{"token": tok})
		if status != 200 {
			t.Fatalf("test = %d %v, want 200", status, body)
		}
		return body
	}

	body := test(f.ciToken(t, "402"))
	if body["issuer"] != ciIssuer || body["subject"] != "repo:acme/app:ref:refs/heads/main" || body["error"] != nil {
		t.Errorf("test = %v, want issuer and subject, no error", body)
	}
	results, _ := body["results"].([]any)
	var teamCI map[string]any
	for _, r := range results {
		if r := r.(map[string]any); r["id"] == "team-ci" {
			teamCI = r
		}
		if r.(map[string]any)["id"] == "app-ci" {
			t.Errorf("results show app-ci, which the caller does not manage")
		}
	}
	if teamCI == nil || teamCI["matched"] != false {
		t.Fatalf("results = %v, want team-ci unmatched", results)
	}
	failures, _ := teamCI["failures"].([]any)
	if len(failures) != 1 || failures[0].(map[string]any)["claim"] != "repository_id" ||
		!strings.Contains(failures[0].(map[string]any)["reason"].(string), `"401"`) {
		t.Errorf("team-ci failures = %v, want repository_id is \"402\", want \"401\"", failures)
	}

	if body := test(f.ciToken(t, "401")); !strings.Contains(mustJSON(t, body["results"]), `"id":"team-ci","matched":true`) {
		t.Errorf("test of a matching token = %v", body)
	}

	unverifiable := []struct {
		name string
		tok  string
		want string
	}{
		{"expired", f.ci.token(t, now.Add(-time.Hour), map[string]any{"repository_id": "401"}), "expired at"},
		{"bad signature", newCIProvider(t).token(t, now, nil), "signature does not verify"},
		{"unknown issuer", f.ci.token(t, now, map[string]any{"iss": "https://elsewhere.example"}), "not configured by any identity"},
		{"not a JWT", "hello", "not a JWT"},
	}
	for _, tt := range unverifiable {
		t.Run(tt.name, func(t *testing.T) {
			body := test(tt.tok)
			if msg, _ := body["error"].(string); !strings.Contains(msg, tt.want) || body["results"] != nil {
				t.Errorf("test = %v, want an error mentioning %q and no results", body, tt.want)
			}
		})
	}
	if status, _ := f.api(t, "POST", "/api/v1/identities/test", "", map[string]string{"token": "x"}); status != 401 {
		t.Errorf("test without a session = %d, want 401", status)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDeletedIdentityStopsItsAccessTokens checks that deleting an identity
// stops the access tokens it was already given, not only new ones: on this
// replica at once, on another once it reloads the identities.
func TestDeletedIdentityStopsItsAccessTokens(t *testing.T) {
	f := newAPIFixture(t)
	owner := f.session(t, "400")
	id := f.staticIdentity(ciIdentity("team-ci", "401", policy.RolePusher, "team/app"))
	if status, body := f.api(t, "POST", "/api/v1/identities", owner, id); status != 201 {
		t.Fatalf("POST = %d %v", status, body)
	}
	status, body := f.getToken(t, f.ciToken(t, "401"), "repository:team/app:pull,push")
	if status != 200 {
		t.Fatalf("/token = %d %v", status, body)
	}
	access := body["token"].(string)
	if err := f.authorize(access, "team/app", "push"); err != nil {
		t.Fatalf("push with the identity's token = %v", err)
	}

	replica, err := auth.NewService(f.opts...)
	if err != nil {
		t.Fatal(err)
	}
	g := *f
	g.svc = replica
	if err := g.authorize(access, "team/app", "pull"); err != nil {
		t.Fatalf("pull on the other replica = %v", err)
	}

	if status, body := f.api(t, "DELETE", "/api/v1/identities/team-ci", owner, nil); status != 204 {
		t.Fatalf("DELETE = %d %v", status, body)
	}
	if got := challengeOf(t, f.authorize(access, "team/app", "pull")); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("challenge after the delete = %s, want invalid_token", got)
	}
	// Another replica notices at its next identity refresh.
	f.clock.Advance(auth.DefaultIdentityRefresh + time.Second)
	if got := challengeOf(t, g.authorize(access, "team/app", "pull")); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("other replica's challenge after its refresh = %s, want invalid_token", got)
	}
	// The owner's own token still works: only the deleted identity lost access.
	status, body = f.getToken(t, owner, "repository:team/app:pull")
	if status != 200 {
		t.Fatalf("/token for the owner = %d %v", status, body)
	}
	if err := f.authorize(body["token"].(string), "team/app", "pull"); err != nil {
		t.Errorf("owner's pull = %v", err)
	}
}
