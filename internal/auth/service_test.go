package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

const (
	service  = "registry.test"
	ciIssuer = "https://ci.example.com"
)

// ciProvider is an upstream issuer with its own key, like a CI platform.
type ciProvider struct {
	key  *ecdsa.PrivateKey
	kid  string
	jwks string
}

func newCIProvider(t *testing.T) *ciProvider {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &ciProvider{key: k, kid: "ci-1"}
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: p.kid, Algorithm: "ES256", Use: "sig"}}})
	p.jwks = string(b)
	return p
}

// token signs claims as the CI platform would.
func (p *ciProvider) token(t *testing.T, now time.Time, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.kid))
	if err != nil {
		t.Fatal(err)
	}
	std := jwt.Claims{Issuer: ciIssuer, Audience: jwt.Audience{service}, Subject: "repo:acme/app:ref:refs/heads/main",
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute))}
	raw, err := jwt.Signed(sig).Claims(std).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type fixture struct {
	svc   *auth.Service
	iss   *issuer.Issuer
	ci    *ciProvider
	clock *fakeclock.Clock
	srv   *httptest.Server
	db    *sqlite.Store
	// dbPath is where db lives.
	dbPath string
	opts   []auth.ServiceOption // what svc was made with
}

func ciIdentity(id, repoID string, role policy.Role, repos ...policy.RepositoryPattern) policy.Identity {
	return policy.Identity{ID: id, Issuer: ciIssuer,
		Claims: []policy.ClaimMatch{{Name: "repository_owner_id", Value: "100"}, {Name: "repository_id", Value: repoID}},
		Roles:  []policy.RoleBinding{{Role: role, Repositories: repos}}}
}

func newFixture(t *testing.T, opts ...auth.ServiceOption) *fixture {
	t.Helper()
	return newFixtureWith(t, func(*fixture) []auth.ServiceOption { return opts })
}

// newFixtureWith is newFixture with options that may use the fixture's
// CI provider (for static keys).
func newFixtureWith(t *testing.T, more func(f *fixture) []auth.ServiceOption) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{ci: newCIProvider(t), clock: fakeclock.New(time.Now().Truncate(time.Second))}
	f.dbPath = filepath.Join(t.TempDir(), "db")
	db, err := sqlite.Open(ctx, f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.iss, err = issuer.New(ctx, db, issuer.WithIssuerURL("https://"+service), issuer.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	withKeys := func(id policy.Identity) policy.Identity { id.IssuerKeys = policy.JWKS(f.ci.jwks); return id }
	base := []auth.ServiceOption{
		auth.WithSigner(f.iss), auth.WithServiceName(service), auth.WithRealm("https://" + service + "/token"),
		auth.WithServiceClock(f.clock.Now), auth.WithPublicRepositories("public/*"),
		auth.WithIdentities(
			withKeys(ciIdentity("app-ci", "200", policy.RolePusher, "acme/app")),
			withKeys(ciIdentity("app-viewer", "201", policy.RoleViewer, "acme/app")),
			withKeys(ciIdentity("two-a", "300", policy.RoleViewer, "acme/a")),
			withKeys(ciIdentity("two-b", "300", policy.RolePusher, "acme/b")),
		),
		auth.WithIdentityStore(db),
	}
	f.opts = append(base, more(f)...)
	f.svc, err = auth.NewService(f.opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(withAPI(f.svc))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) ciToken(t *testing.T, repoID string) string {
	return f.ci.token(t, f.clock.Now(), map[string]any{"repository_owner_id": "100", "repository_id": repoID})
}

// getToken calls GET /token with the credential as the Basic password.
func (f *fixture) getToken(t *testing.T, cred string, scopes ...string) (int, map[string]any) {
	t.Helper()
	q := url.Values{"service": {service}, "scope": scopes}
	req, _ := http.NewRequest("GET", f.srv.URL+"/token?"+q.Encode(), nil)
	if cred != "" {
		req.SetBasicAuth("ci", cred)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON", req.Method, req.URL.Path, b)
	}
	return resp.StatusCode, body
}

// authorize runs the registry's check for one access with a bearer token.
func (f *fixture) authorize(token, repo string, actions ...string) error {
	req := httptest.NewRequest("GET", "/v2/", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	_, err := f.svc.Authorize(req, policy.Access{Type: "repository", Name: repo, Actions: actions})
	return err
}

func challengeOf(t *testing.T, err error) string {
	t.Helper()
	var e *registry.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("error = %v, want a 401 *registry.Error", err)
	}
	return e.Header.Get("Www-Authenticate")
}

func TestAnonymous(t *testing.T) {
	f := newFixture(t)
	got := challengeOf(t, f.authorize("", "acme/app", "push"))
	want := `Bearer realm="https://registry.test/token",service="registry.test",scope="repository:acme/app:pull,push"`
	if got != want {
		t.Errorf("challenge = %s, want %s", got, want)
	}
	if err := f.authorize("", "public/base", "pull"); err != nil {
		t.Errorf("anonymous pull of a public repository: %v", err)
	}
	challengeOf(t, f.authorize("", "public/base", "push"))

	status, body := f.getToken(t, "", "repository:public/base:pull,push", "repository:acme/app:pull")
	if status != 200 {
		t.Fatalf("anonymous /token = %d %v", status, body)
	}
	tok := body["token"].(string)
	if err := f.authorize(tok, "public/base", "pull"); err != nil {
		t.Errorf("anonymous token pull public: %v", err)
	}
	if !strings.Contains(challengeOf(t, f.authorize(tok, "acme/app", "pull")), `error="insufficient_scope"`) {
		t.Error("an anonymous token reached a private repository")
	}
	if body["scope"] != "repository:public/base:pull" {
		t.Errorf("granted scope = %v, want only the public pull", body["scope"])
	}
}

func TestCITokenGrants(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		repoID  string
		scope   string
		allowed map[string][]string // repo -> actions that must pass
		denied  map[string][]string // repo -> actions that must fail
	}{
		{"pusher gets pull and push", "200", "repository:acme/app:pull,push", map[string][]string{"acme/app": {"pull", "push"}}, map[string][]string{"acme/app": {"delete"}}},
		{"wider request is intersected", "200", "repository:acme/app:*", map[string][]string{"acme/app": {"push"}}, map[string][]string{"acme/app": {"delete"}}},
		{"token for A used on B", "200", "repository:acme/other:pull", nil, map[string][]string{"acme/other": {"pull"}, "acme/app": {"pull"}}},
		{"viewer pushing", "201", "repository:acme/app:pull,push", map[string][]string{"acme/app": {"pull"}}, map[string][]string{"acme/app": {"push"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.getToken(t, f.ciToken(t, tt.repoID), tt.scope)
			if status != 200 {
				t.Fatalf("/token = %d %v", status, body)
			}
			tok := body["access_token"].(string)
			for repo, acts := range tt.allowed {
				for _, a := range acts {
					if err := f.authorize(tok, repo, a); err != nil {
						t.Errorf("%s %s refused: %v", a, repo, err)
					}
				}
			}
			for repo, acts := range tt.denied {
				for _, a := range acts {
					if f.authorize(tok, repo, a) == nil {
						t.Errorf("%s %s allowed", a, repo)
					}
				}
			}
		})
	}
}

func TestRefusedCredentials(t *testing.T) {
	f := newFixture(t)
	other := newCIProvider(t) // a key the registry does not trust, same issuer
	now := f.clock.Now()
	good := f.ciToken(t, "200")
	session := exchange(t, f, good, "").AccessToken
	access := func() string { _, b := f.getToken(t, good, "repository:acme/app:pull"); return b["token"].(string) }()
	tests := []struct {
		name string
		cred string
	}{
		{"forged signature", other.token(t, now, map[string]any{"repository_owner_id": "100", "repository_id": "200"})},
		{"wrong audience", f.ci.token(t, now, map[string]any{"aud": "someone-else", "repository_owner_id": "100", "repository_id": "200"})},
		{"matches no identity", f.ciToken(t, "999")},
		{"an access token as a credential", access},
		{"garbage", "not-a-token"},
		{"oversized", strings.Repeat("a", 20<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := f.getToken(t, tt.cred, "repository:acme/app:pull"); status != 401 || body["error"] != "invalid_grant" {
				t.Errorf("/token = %d %v, want 401 invalid_grant", status, body)
			}
		})
	}
	// A session token is not an access token, nor is an upstream token.
	for name, tok := range map[string]string{"session": session, "upstream": good, "garbage": "x.y.z"} {
		if got := challengeOf(t, f.authorize(tok, "acme/app", "pull")); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s token as bearer: challenge %s", name, got)
		}
	}
	req := httptest.NewRequest("GET", "/v2/", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 17<<10))
	_, err := f.svc.Authorize(req, policy.Access{Type: "repository", Name: "acme/app", Actions: []string{"pull"}})
	challengeOf(t, err)
}

func TestAccessTokenExpires(t *testing.T) {
	f := newFixture(t)
	_, body := f.getToken(t, f.ciToken(t, "200"), "repository:acme/app:pull")
	tok := body["token"].(string)
	if body["expires_in"].(float64) != 300 {
		t.Errorf("expires_in = %v, want 300", body["expires_in"])
	}
	if err := f.authorize(tok, "acme/app", "pull"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5*time.Minute + issuer.MaxClockSkew + time.Second)
	challengeOf(t, f.authorize(tok, "acme/app", "pull"))
}

type exchangeResult struct {
	Status      int
	AccessToken string `json:"access_token"`
	Identity    string `json:"identity"`
	ExpiresIn   int    `json:"expires_in"`
	Error       string `json:"error"`
}

func exchange(t *testing.T, f *fixture, subject, identity string, extra ...string) exchangeResult {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}
	if identity != "" {
		form.Set("identity", identity)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	resp, err := http.PostForm(f.srv.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r exchangeResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	r.Status = resp.StatusCode
	return r
}

func TestExchange(t *testing.T) {
	f := newFixture(t)
	r := exchange(t, f, f.ciToken(t, "200"), "")
	if r.Status != 200 || r.Identity != "app-ci" || r.ExpiresIn != 3600 {
		t.Fatalf("exchange = %+v", r)
	}
	c, err := f.iss.Verify(context.Background(), r.AccessToken, service+"#session")
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "app-ci" || c.Actor == nil || c.Actor.Issuer != ciIssuer || c.Actor.Subject != "repo:acme/app:ref:refs/heads/main" {
		t.Errorf("session claims = %+v, act %+v", c, c.Actor)
	}
	// The session token is a credential at /token.
	status, body := f.getToken(t, r.AccessToken, "repository:acme/app:push")
	if status != 200 || f.authorize(body["token"].(string), "acme/app", "push") != nil {
		t.Fatalf("/token with a session = %d %v", status, body)
	}

	two := f.ciToken(t, "300") // matches two-a and two-b
	if r := exchange(t, f, two, ""); r.Status != 400 || r.Error != "invalid_request" {
		t.Errorf("ambiguous exchange = %+v, want 400", r)
	}
	if r := exchange(t, f, two, "two-b"); r.Status != 200 || r.Identity != "two-b" {
		t.Errorf("exchange for two-b = %+v", r)
	}
	if r := exchange(t, f, two, "app-ci"); r.Status != 401 {
		t.Errorf("exchange naming an identity the token does not match = %+v, want 401", r)
	}
	if r := exchange(t, f, f.ciToken(t, "200"), "", "expires_in", "999999"); r.ExpiresIn != int(auth.DefaultMaxSessionTTL.Seconds()) {
		t.Errorf("expires_in not capped: %+v", r)
	}
	if r := exchange(t, f, "garbage", ""); r.Status != 401 {
		t.Errorf("exchange of garbage = %+v", r)
	}
}

// unavailable is an upstream verifier whose issuer cannot be reached.
type unavailable struct{}

func (unavailable) Verify(context.Context, string, upstream.Expectation) (*upstream.Token, error) {
	return nil, fmt.Errorf("fetch keys: %w", upstream.ErrUnavailable)
}

func TestUpstreamUnavailable(t *testing.T) {
	f := newFixture(t, auth.WithUpstream(unavailable{}), auth.WithIdentities(policy.Identity{
		ID: "idp-user", Issuer: "https://idp.example.com", Subject: "alice",
		Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"alice/*"}}},
	}))
	status, body := f.getToken(t, "eyJhbGciOiJFUzI1NiJ9.e30.sig", "repository:alice/x:pull")
	if status != 503 {
		t.Errorf("/token while the issuer is down = %d %v, want 503", status, body)
	}
}

func TestTokenEndpointRequests(t *testing.T) {
	f := newFixture(t)
	cred := f.ciToken(t, "200")
	post := func(form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, req)
	}
	for _, gt := range []string{"password", "refresh_token"} {
		status, body := post(url.Values{"grant_type": {gt}, "service": {service}, "scope": {"repository:acme/app:pull"},
			"password": {cred}, "refresh_token": {cred}, "client_id": {"docker"}})
		if status != 200 || body["access_token"] == nil {
			t.Errorf("POST grant_type=%s = %d %v", gt, status, body)
		}
	}
	if status, body := post(url.Values{"grant_type": {"client_credentials"}}); status != 400 || body["error"] != "unsupported_grant_type" {
		t.Errorf("unsupported grant = %d %v", status, body)
	}
	if status, _ := f.getToken(t, cred, "repository:Bad Name:pull"); status != 400 {
		t.Errorf("bad scope = %d, want 400", status)
	}
	q := url.Values{"service": {"other.example"}}
	req, _ := http.NewRequest("GET", f.srv.URL+"/token?"+q.Encode(), nil)
	if status, _ := do(t, req); status != 400 {
		t.Errorf("wrong service = %d, want 400", status)
	}
	req, _ = http.NewRequest("GET", f.srv.URL+"/token?service="+service+"&scope=repository:acme/app:pull%ZZ", nil)
	req.SetBasicAuth("ci", cred)
	if status, body := do(t, req); status != 400 || body["error"] != "invalid_request" {
		t.Errorf("malformed query = %d %v, want 400 invalid_request", status, body)
	}
}

func TestMountSourceInChallenge(t *testing.T) {
	f := newFixture(t)
	from := policy.Access{Type: "repository", Name: "acme/base", Actions: []string{"pull"}}
	req := httptest.NewRequest("POST", "/v2/acme/app/blobs/uploads/", nil)
	_, err := f.svc.Authorize(req, policy.Access{Type: "repository", Name: "acme/app", Actions: []string{"push"}}, from)
	got := challengeOf(t, err)
	if !strings.Contains(got, `scope="repository:acme/app:pull,push repository:acme/base:pull"`) {
		t.Errorf("challenge = %s, want both scopes", got)
	}
	// A token without the optional pull still passes: the mount falls back.
	_, body := f.getToken(t, f.ciToken(t, "200"), "repository:acme/app:pull,push repository:acme/base:pull")
	req.Header.Set("Authorization", "Bearer "+body["token"].(string))
	p, err := f.svc.Authorize(req, policy.Access{Type: "repository", Name: "acme/app", Actions: []string{"push"}}, from)
	if err != nil {
		t.Errorf("optional access was required: %v", err)
	}
	// The principal is who the token names: the identity and the CI job.
	if got := p.String(); got != "identity app-ci ("+ciIssuer+" repo:acme/app:ref:refs/heads/main)" {
		t.Errorf("principal = %s", got)
	}
}

// TestMalformedCredentials: credentials that do not parse are refused as
// wrong ones are (same status and body), never taken for anonymous; only a
// request with no credentials at all is anonymous.
func TestMalformedCredentials(t *testing.T) {
	f := newFixture(t)
	get := func(header ...string) (int, map[string]any) {
		t.Helper()
		q := url.Values{"service": {service}, "scope": {"repository:public/base:pull"}}
		req, _ := http.NewRequest("GET", f.srv.URL+"/token?"+q.Encode(), nil)
		for _, h := range header {
			req.Header.Add("Authorization", h)
		}
		return do(t, req)
	}
	_, wrong := f.getToken(t, "not-a-token", "repository:public/base:pull")
	for _, tt := range []struct {
		name   string
		header []string
	}{
		{"base64 that does not decode", []string{"Basic !!!!"}},
		{"Basic without a colon", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon"))}},
		{"Basic with an empty password", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("user:"))}},
		{"Basic with nothing", []string{"Basic"}},
		{"a bearer token", []string{"Bearer ....."}},
		{"no scheme", []string{"sometoken"}},
		{"two headers", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "Basic " + base64.StdEncoding.EncodeToString([]byte("c:d"))}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(tt.header...)
			if status != 401 || fmt.Sprint(body) != fmt.Sprint(wrong) {
				t.Errorf("/token with %q = %d %v, want 401 %v (as a wrong credential)", tt.header, status, body, wrong)
			}
		})
	}
	if status, body := get(); status != 200 || body["token"] == nil {
		t.Errorf("/token with no credentials = %d %v, want 200 and an anonymous token", status, body)
	}
	for _, gt := range []string{"password", "refresh_token"} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(url.Values{"grant_type": {gt}, "service": {service}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if status, body := do(t, req); status != 401 || body["error"] != "invalid_grant" {
			t.Errorf("POST grant_type=%s without a credential = %d %v, want 401 invalid_grant", gt, status, body)
		}
	}
}
