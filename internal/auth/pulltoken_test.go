package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/pulltoken"
)

// newPullTokenFixture is the API fixture with pull tokens kept in its
// store, capped at 90 days, and opts.
func newPullTokenFixture(t *testing.T, opts ...auth.ServiceOption) *fixture {
	t.Helper()
	return newFixtureWith(t, func(f *fixture) []auth.ServiceOption {
		return append([]auth.ServiceOption{
			auth.WithIdentities(
				f.staticIdentity(ciIdentity("team-owner", "400", policy.RoleOwner, "team/*")),
				f.staticIdentity(ciIdentity("other-owner", "500", policy.RoleOwner, "other/*")),
			),
			auth.WithPullTokens(f.db, 90*24*time.Hour),
		}, opts...)
	})
}

// createPullToken creates a pull token through the API and returns its id
// and secret.
func (f *fixture) createPullToken(t *testing.T, session string, body map[string]any) (string, string) {
	t.Helper()
	status, got := f.api(t, "POST", "/api/v1/pull-tokens", session, body)
	if status != 201 {
		t.Fatalf("create pull token %v = %d %v", body, status, got)
	}
	return got["id"].(string), got["secret"].(string)
}

// pullTokenToken calls GET /token with a pull token's id and secret as
// Basic credentials and returns the status, the raw body and the headers.
func (f *fixture) pullTokenToken(t *testing.T, id, secret string, scopes ...string) (int, []byte, http.Header) {
	t.Helper()
	q := url.Values{"service": {service}, "scope": scopes}
	req, _ := http.NewRequest("GET", f.srv.URL+"/token?"+q.Encode(), nil)
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// accessToken exchanges a pull token for an access token for scopes.
func (f *fixture) accessToken(t *testing.T, id, secret string, scopes ...string) (string, string) {
	t.Helper()
	status, b, _ := f.pullTokenToken(t, id, secret, scopes...)
	if status != 200 {
		t.Fatalf("/token with pull token %s = %d %s", id, status, b)
	}
	var r struct{ Token, Scope string }
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Token, r.Scope
}

func TestPullTokensAPI(t *testing.T) {
	f := newPullTokenFixture(t)
	owner, other, pusher := f.session(t, "400"), f.session(t, "500"), f.session(t, "200")

	status, got := f.api(t, "POST", "/api/v1/pull-tokens", owner, map[string]any{
		"name": "nodes", "description": "kubelet pulls", "repositories": []string{"team/b", "team/a", "team/b"}, "ttl_seconds": 3600})
	if status != 201 {
		t.Fatalf("create = %d %v", status, got)
	}
	id, secret := got["id"].(string), got["secret"].(string)
	if !pulltoken.ValidID(id) || !pulltoken.Valid(secret) {
		t.Fatalf("created id %q, secret of %d characters: not of the pull token forms", id, len(secret))
	}
	if got["creator"] != "team-owner" || got["name"] != "nodes" || got["expired"] != false ||
		strings.Join(anyStrings(got["repositories"]), ",") != "team/a,team/b" {
		t.Errorf("created = %v, want creator team-owner, name nodes, repositories team/a,team/b (sorted, once each)", got)
	}
	if exp, _ := time.Parse(time.RFC3339, got["expires"].(string)); !exp.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("expires = %v, want %v", got["expires"], f.clock.Now().Add(time.Hour).UTC())
	}

	tests := []struct {
		name, method, path, session string
		body                        any
		status                      int
		code, inMessage             string
	}{
		{name: "no session", method: "GET", path: "/api/v1/pull-tokens", status: 401, code: "unauthorized"},
		{name: "a pull token is no session", method: "GET", path: "/api/v1/pull-tokens", session: secret, status: 401, code: "unauthorized"},
		{name: "pusher may not create", method: "POST", path: "/api/v1/pull-tokens", session: pusher,
			body: map[string]any{"repositories": []string{"acme/app"}}, status: 403, code: "forbidden", inMessage: "owner"},
		{name: "owner of other repositories may not create", method: "POST", path: "/api/v1/pull-tokens", session: other,
			body: map[string]any{"repositories": []string{"other/x", "team/a"}}, status: 403, code: "forbidden", inMessage: `"team/a"`},
		{name: "no repositories", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"name": "x"}, status: 400, code: "invalid", inMessage: "repositories is required"},
		{name: "bad pattern", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"repositories": []string{"team/a*"}}, status: 400, code: "invalid", inMessage: `"team/a*"`},
		{name: "ttl above the maximum", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"repositories": []string{"team/a"}, "ttl_seconds": 91 * 24 * 3600}, status: 400, code: "invalid", inMessage: "2160h"},
		{name: "negative ttl", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"repositories": []string{"team/a"}, "ttl_seconds": -5}, status: 400, code: "invalid"},
		{name: "ttl under a minute", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"repositories": []string{"team/a"}, "ttl_seconds": 30}, status: 400, code: "invalid", inMessage: "at least 1m"},
		{name: "control characters in the name", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"repositories": []string{"team/a"}, "name": "a\x1b[31m"}, status: 400, code: "invalid"},
		{name: "unknown field", method: "POST", path: "/api/v1/pull-tokens", session: owner,
			body: map[string]any{"repositories": []string{"team/a"}, "scope": "push"}, status: 400, code: "invalid"},
		{name: "another owner does not see it", method: "GET", path: "/api/v1/pull-tokens/" + id, session: other, status: 404, code: "not_found"},
		{name: "another owner may not revoke it", method: "DELETE", path: "/api/v1/pull-tokens/" + id, session: other, status: 404, code: "not_found"},
		{name: "not an id", method: "GET", path: "/api/v1/pull-tokens/pt-x/more", session: owner, status: 404, code: "not_found"},
		{name: "bad expired", method: "GET", path: "/api/v1/pull-tokens?expired=maybe", session: owner, status: 400, code: "invalid"},
		{name: "method", method: "PUT", path: "/api/v1/pull-tokens/" + id, session: owner, status: 405, code: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.api(t, tt.method, tt.path, tt.session, tt.body)
			if status != tt.status || body["error"] != tt.code || !strings.Contains(body["message"].(string), tt.inMessage) {
				t.Errorf("%s %s = %d %v, want %d %s containing %q", tt.method, tt.path, status, body, tt.status, tt.code, tt.inMessage)
			}
		})
	}

	// Listing and reading never show the secret again.
	status, list := f.api(t, "GET", "/api/v1/pull-tokens", owner, nil)
	tokens, _ := list["pull_tokens"].([]any)
	if status != 200 || len(tokens) != 1 || tokens[0].(map[string]any)["id"] != id {
		t.Fatalf("list = %d %v, want the one token", status, list)
	}
	if _, ok := tokens[0].(map[string]any)["secret"]; ok {
		t.Error("the list shows the secret")
	}
	status, one := f.api(t, "GET", "/api/v1/pull-tokens/"+id, owner, nil)
	if _, ok := one["secret"]; status != 200 || ok || one["id"] != id {
		t.Errorf("get = %d %v, want the token without its secret", status, one)
	}
	if status, list := f.api(t, "GET", "/api/v1/pull-tokens", other, nil); status != 200 || len(list["pull_tokens"].([]any)) != 0 {
		t.Errorf("list as another owner = %d %v, want none", status, list)
	}

	// Expired tokens are listed only when asked for.
	f.clock.Advance(time.Hour)
	if _, list := f.api(t, "GET", "/api/v1/pull-tokens", owner, nil); len(list["pull_tokens"].([]any)) != 0 {
		t.Errorf("list after expiry = %v, want none", list)
	}
	_, list = f.api(t, "GET", "/api/v1/pull-tokens?expired=true", owner, nil)
	if tokens := list["pull_tokens"].([]any); len(tokens) != 1 || tokens[0].(map[string]any)["expired"] != true {
		t.Errorf("list ?expired=true after expiry = %v, want the token, expired", list)
	}

	if status, body := f.api(t, "DELETE", "/api/v1/pull-tokens/"+id, owner, nil); status != 204 {
		t.Fatalf("revoke = %d %v", status, body)
	}
	if status, _ := f.api(t, "DELETE", "/api/v1/pull-tokens/"+id, owner, nil); status != 404 {
		t.Errorf("revoke twice = %d, want 404", status)
	}
	if _, list := f.api(t, "GET", "/api/v1/pull-tokens?expired=true", owner, nil); len(list["pull_tokens"].([]any)) != 0 {
		t.Errorf("list after revoke = %v, want none", list)
	}
}

func TestPullTokenGrantsPullOnly(t *testing.T) {
	f := newPullTokenFixture(t)
	id, secret := f.createPullToken(t, f.session(t, "400"), map[string]any{"repositories": []string{"team/*"}})

	tok, scope := f.accessToken(t, id, secret, "repository:team/app:pull,push,delete", "repository:other/x:pull", "repository:public/base:pull")
	if scope != "repository:team/app:pull" {
		t.Errorf("granted scope = %q, want only pull on team/app (never push or delete, nothing outside the patterns, public repositories need no token)", scope)
	}
	if err := f.authorize(tok, "team/app", "pull"); err != nil {
		t.Errorf("pull of team/app = %v, want allowed", err)
	}
	for _, c := range []struct{ repo, action string }{{"team/app", "push"}, {"team/app", "delete"}, {"team/other", "pull"}, {"other/x", "pull"}} {
		if err := f.authorize(tok, c.repo, c.action); err == nil {
			t.Errorf("%s of %s with a pull token's access token is allowed", c.action, c.repo)
		}
	}
	// The password grant of POST /token takes the same credentials.
	req, _ := http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(url.Values{"grant_type": {"password"}, "username": {id},
		"password": {secret}, "service": {service}, "scope": {"repository:team/app:pull"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body := do(t, req)
	if status != 200 || body["scope"] != "repository:team/app:pull" {
		t.Errorf("POST /token password grant = %d %v", status, body)
	}
	// A pull token's access token is who it names.
	req, _ = http.NewRequest("GET", "/v2/team/app/manifests/latest", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	p, err := f.svc.Authorize(req, policy.Access{Type: "repository", Name: "team/app", Actions: []string{"pull"}})
	if err != nil || p.PullToken != id || len(p.Identities) != 0 {
		t.Errorf("principal = %+v, %v, want pull token %s and no identity", p, err, id)
	}
}

func TestPullTokenRefusalsLookTheSame(t *testing.T) {
	f := newPullTokenFixture(t, auth.WithPullTokenFailureLimits(1000, 1000, time.Minute))
	owner := f.session(t, "400")
	id, secret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/*"}, "ttl_seconds": 3600})
	revoked, revokedSecret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/*"}})
	if status, _ := f.api(t, "DELETE", "/api/v1/pull-tokens/"+revoked, owner, nil); status != 204 {
		t.Fatal("revoke failed")
	}
	expiring, expiringSecret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/*"}, "ttl_seconds": 60})
	f.clock.Advance(61 * time.Second)

	scope := "repository:team/app:pull"
	_, want, wantHeader := f.pullTokenToken(t, pulltoken.NewID(), secret, scope) // unknown id
	cases := map[string][2]string{
		"wrong secret":            {id, string(pulltoken.NewSecret())},
		"revoked":                 {revoked, revokedSecret},
		"expired":                 {expiring, expiringSecret},
		"secret of another token": {id, revokedSecret},
		"malformed secret":        {id, otherLast(secret)},
		"not an id":               {"pt-nope", secret},
	}
	for name, c := range cases {
		status, body, h := f.pullTokenToken(t, c[0], c[1], scope)
		if status != 401 || !bytes.Equal(body, want) || h.Get("Www-Authenticate") != wantHeader.Get("Www-Authenticate") {
			t.Errorf("%s: %d %s %v, want 401 and the body of an unknown id: %s %v", name, status, body, h, want, wantHeader)
		}
	}
	if status, _, _ := f.pullTokenToken(t, id, secret, scope); status != 200 {
		t.Errorf("the right secret = %d, want 200", status)
	}
}

// otherLast is s with its last character changed: a secret whose checksum
// no longer holds. (Changing it to a fixed "x" left it unchanged once in
// 62 runs.)
func otherLast(s string) string {
	last := "x"
	if strings.HasSuffix(s, last) {
		last = "y"
	}
	return s[:len(s)-1] + last
}

func TestPullTokenExpiry(t *testing.T) {
	f := newPullTokenFixture(t)
	id, secret := f.createPullToken(t, f.session(t, "400"), map[string]any{"repositories": []string{"team/app"}, "ttl_seconds": 600})
	f.clock.Advance(8 * time.Minute)
	tok, _ := f.accessToken(t, id, secret, "repository:team/app:pull")
	f.clock.Advance(time.Minute)
	if err := f.authorize(tok, "team/app", "pull"); err != nil {
		t.Fatalf("pull a minute before the pull token expires = %v", err)
	}
	f.clock.Advance(time.Minute)
	if status, b, _ := f.pullTokenToken(t, id, secret, "repository:team/app:pull"); status != 401 {
		t.Errorf("/token with an expired pull token = %d %s, want 401", status, b)
	}
	// The access token expired with the pull token, not 5 minutes after
	// it was issued.
	if err := f.authorize(tok, "team/app", "pull"); err == nil {
		t.Error("an access token outlives its pull token")
	}
}

func TestPullTokenRevocation(t *testing.T) {
	f := newPullTokenFixture(t)
	// A second replica on the same store, started (and so having read the
	// pull tokens) before the token is made: it must not wait for its next
	// refresh to honour it.
	replica, err := auth.NewService(f.opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := replica.RefreshPullTokens(context.Background()); err != nil {
		t.Fatal(err)
	}
	owner := f.session(t, "400")
	id, secret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/app"}})
	tok, _ := f.accessToken(t, id, secret, "repository:team/app:pull")
	authorizeOn := func(svc *auth.Service) error {
		req, _ := http.NewRequest("GET", "/v2/team/app/manifests/latest", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		_, err := svc.Authorize(req, policy.Access{Type: "repository", Name: "team/app", Actions: []string{"pull"}})
		return err
	}
	if err := authorizeOn(replica); err != nil {
		t.Fatalf("pull on the replica before revocation = %v", err)
	}

	if status, body := f.api(t, "DELETE", "/api/v1/pull-tokens/"+id, owner, nil); status != 204 {
		t.Fatalf("revoke = %d %v", status, body)
	}
	if err := f.authorize(tok, "team/app", "pull"); err == nil {
		t.Error("the access token is still honoured right after revocation, on the replica that revoked")
	}
	// /token on the other replica refuses it at once, with no refresh due.
	other := httptest.NewServer(withAPI(replica))
	defer other.Close()
	req, _ := http.NewRequest("GET", other.URL+"/token?service="+service, nil)
	req.SetBasicAuth(id, secret)
	if status, body := do(t, req); status != 401 {
		t.Errorf("/token on the other replica right after revocation = %d %v, want 401", status, body)
	}
	if status, _, _ := f.pullTokenToken(t, id, secret, "repository:team/app:pull"); status != 401 {
		t.Errorf("/token after revocation = %d, want 401", status)
	}
	// The replica reads the store at its next refresh, a second later.
	f.clock.Advance(auth.DefaultPullTokenRefresh)
	if err := authorizeOn(replica); err == nil {
		t.Error("the replica honours the revoked token's access token after its refresh")
	}
}

func TestPullTokenStopsWithItsCreator(t *testing.T) {
	f := newPullTokenFixture(t)
	owner := f.session(t, "400")
	// team-owner makes sub-owner, owner of team/app, which makes a token.
	sub := f.staticIdentity(ciIdentity("sub-owner", "410", policy.RoleOwner, "team/app"))
	if status, body := f.api(t, "POST", "/api/v1/identities", owner, sub); status != 201 {
		t.Fatalf("create sub-owner = %d %v", status, body)
	}
	id, secret := f.createPullToken(t, f.session(t, "410"), map[string]any{"repositories": []string{"team/app"}})
	tok, _ := f.accessToken(t, id, secret, "repository:team/app:pull")

	if status, body := f.api(t, "DELETE", "/api/v1/identities/sub-owner", owner, nil); status != 204 {
		t.Fatalf("delete sub-owner = %d %v", status, body)
	}
	if status, _, _ := f.pullTokenToken(t, id, secret, "repository:team/app:pull"); status != 401 {
		t.Errorf("/token once the creator is deleted = %d, want 401", status)
	}
	if err := f.authorize(tok, "team/app", "pull"); err == nil {
		t.Error("the access token is honoured once the creator is deleted")
	}
	// Re-creating sub-owner, as a new incarnation, does not revive it.
	if status, body := f.api(t, "POST", "/api/v1/identities", owner, sub); status != 201 {
		t.Fatalf("create sub-owner again = %d %v", status, body)
	}
	if status, _, _ := f.pullTokenToken(t, id, secret, "repository:team/app:pull"); status != 401 {
		t.Errorf("/token once the creator is re-created = %d, want 401", status)
	}
	// Owners of its patterns still see it, and why it is inactive.
	_, got := f.api(t, "GET", "/api/v1/pull-tokens/"+id, owner, nil)
	if !strings.Contains(got["inactive"].(string), "sub-owner") {
		t.Errorf("get = %v, want it inactive because of sub-owner", got)
	}
}

func TestPullTokenFailureLimit(t *testing.T) {
	f := newPullTokenFixture(t, auth.WithPullTokenFailureLimits(3, 5, time.Minute))
	owner := f.session(t, "400")
	id, secret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/app"}})
	wrong := string(pulltoken.NewSecret())
	for i := range 3 {
		if status, _, _ := f.pullTokenToken(t, id, wrong); status != 401 {
			t.Fatalf("wrong secret #%d = %d, want 401", i+1, status)
		}
	}
	// Blocked per id: even the right secret waits, with Retry-After.
	status, body, h := f.pullTokenToken(t, id, secret)
	if status != 429 || h.Get("Retry-After") != "60" || !strings.Contains(string(body), "TOOMANYREQUESTS") {
		t.Fatalf("after 3 failures = %d %s Retry-After %q, want 429 TOOMANYREQUESTS, Retry-After 60", status, body, h.Get("Retry-After"))
	}
	// Per address: two more failures with other ids block the address.
	for range 2 {
		f.pullTokenToken(t, pulltoken.NewID(), wrong)
	}
	other, otherSecret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/app"}})
	if status, _, _ := f.pullTokenToken(t, other, otherSecret); status != 429 {
		t.Errorf("another token from the blocked address = %d, want 429", status)
	}
	// Session tokens are not pull tokens: not limited.
	if status, _ := f.getToken(t, owner, "repository:team/app:pull"); status != 200 {
		t.Errorf("a session from the blocked address = %d, want 200", status)
	}
	// The limit ends with its window.
	f.clock.Advance(time.Minute)
	if status, b, _ := f.pullTokenToken(t, id, secret, "repository:team/app:pull"); status != 200 {
		t.Errorf("the right secret after the window = %d %s, want 200", status, b)
	}
}

func TestPullTokenLastUsed(t *testing.T) {
	f := newPullTokenFixture(t)
	owner := f.session(t, "400")
	id, secret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/app"}})
	lastUsed := func() string {
		t.Helper()
		tok, err := f.db.GetPullToken(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if tok.LastUsed.IsZero() {
			return ""
		}
		return tok.LastUsed.Format(time.RFC3339Nano)
	}
	if got := lastUsed(); got != "" {
		t.Fatalf("last used of a new token = %s, want never", got)
	}
	f.accessToken(t, id, secret)
	first := lastUsed()
	if first != f.clock.Now().UTC().Format(time.RFC3339Nano) {
		t.Fatalf("last used = %q, want now (%s)", first, f.clock.Now().UTC())
	}
	f.clock.Advance(30 * time.Second)
	f.accessToken(t, id, secret)
	if got := lastUsed(); got != first {
		t.Errorf("last used 30s later = %s, want unchanged %s (written at most once a minute)", got, first)
	}
	f.clock.Advance(31 * time.Second)
	f.accessToken(t, id, secret)
	if got := lastUsed(); got == first {
		t.Error("last used a minute later is unchanged")
	}
	if _, got := f.api(t, "GET", "/api/v1/pull-tokens/"+id, owner, nil); got["last_used"] == nil {
		t.Errorf("get = %v, want last_used", got)
	}
}

// syncBuffer is a bytes.Buffer for a logger that handlers write from
// several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPullTokenSecretNeverLoggedOrStored(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newPullTokenFixture(t, auth.WithServiceLogger(log), auth.WithPullTokenFailureLimits(2, 100, time.Minute))
	owner := f.session(t, "400")
	id, secret := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/app"}})
	f.accessToken(t, id, secret, "repository:team/app:pull")
	f.pullTokenToken(t, id, secret+"x")            // malformed
	f.pullTokenToken(t, pulltoken.NewID(), secret) // unknown id
	f.pullTokenToken(t, secret, secret)            // a secret as the username
	f.pullTokenToken(t, id, secret)                // limited by now
	f.api(t, "DELETE", "/api/v1/pull-tokens/"+id, owner, nil)
	f.pullTokenToken(t, id, secret) // revoked
	if !strings.Contains(logs.String(), id) {
		t.Fatalf("the log does not name the token at all; the test sees nothing:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), secret[len(pulltoken.Prefix):len(pulltoken.Prefix)+20]) {
		t.Errorf("the secret is in the log:\n%s", logs.String())
	}

	// The database holds no secret, and nothing in it is one.
	id2, secret2 := f.createPullToken(t, owner, map[string]any{"repositories": []string{"team/app"}})
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	dump := readDir(t, filepath.Dir(f.dbPath))
	if bytes.Contains(dump, []byte(secret2)) || bytes.Contains(dump, []byte(secret2[len(pulltoken.Prefix):])) {
		t.Fatal("the database files hold the secret")
	}
	if !bytes.Contains(dump, pulltoken.Hash(id2, pulltoken.Secret(secret2))) {
		t.Fatal("the database files do not hold the hash: the test looks in the wrong place")
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func readDir(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err == nil {
			all = append(all, b...)
		}
	}
	return all
}
