package devidp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/oidc/devidp"
)

func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Now().Truncate(time.Second)) }

// env is a provider served by httptest, with a loopback listener standing in
// for the CLI's redirect endpoint.
type env struct {
	t        *testing.T
	provider *devidp.Provider
	srv      *httptest.Server
	clock    *fakeclock.Clock
	logs     *syncBuffer
	callback *httptest.Server
	redirect string // callback URL to use as redirect_uri
	got      chan url.Values
	noFollow *http.Client
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(t *testing.T, opts ...devidp.Option) *env {
	t.Helper()
	e := &env{t: t, clock: newFakeClock(), logs: &syncBuffer{}, got: make(chan url.Values, 10)}
	// The issuer URL must be known before New, so take the listener first.
	e.srv = httptest.NewUnstartedServer(nil)
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]devidp.Option{devidp.WithClock(e.clock.Now), devidp.WithLogger(logger)}, opts...)
	p, err := devidp.New("http://"+e.srv.Listener.Addr().String(), opts...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	e.provider = p
	e.srv.Config.Handler = p.Handler()
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	e.callback = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.got <- r.URL.Query()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(e.callback.Close)
	e.redirect = e.callback.URL + "/callback"
	e.noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// authParams are the parameters of a good authorization request.
func (e *env) authParams(challenge string) url.Values {
	return url.Values{
		"client_id":             {"chainctl"},
		"redirect_uri":          {e.redirect},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {"state-123"},
		"nonce":                 {"nonce-456"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

func (e *env) get(client *http.Client, rawURL string) (*http.Response, string) {
	e.t.Helper()
	resp, err := client.Get(rawURL)
	if err != nil {
		e.t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (e *env) postForm(client *http.Client, path string, form url.Values, header http.Header) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// token POSTs to the token endpoint and decodes the JSON answer.
func (e *env) token(form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, body := e.postForm(http.DefaultClient, "/token", form, nil)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		e.t.Fatalf("token response %q: %v", body, err)
	}
	return resp.StatusCode, m
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formFields returns the hidden fields of the page's form.
func formFields(t *testing.T, page string) url.Values {
	t.Helper()
	f := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		f.Set(m[1], m[2])
	}
	if len(f) == 0 {
		t.Fatalf("no form in page:\n%s", page)
	}
	return f
}

// loginPage opens the login page of a good authorization request.
func (e *env) loginPage(challenge string) url.Values {
	e.t.Helper()
	resp, body := e.get(e.noFollow, e.srv.URL+"/authorize?"+e.authParams(challenge).Encode())
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /authorize = %d, want 200:\n%s", resp.StatusCode, body)
	}
	return formFields(e.t, body)
}

// code runs the browser part of the flow with a plain HTTP client: login
// page, Sign in, and the redirect followed to the loopback listener.
func (e *env) code(challenge string) string {
	e.t.Helper()
	form := e.loginPage(challenge)
	form.Set("action", "approve")
	resp, body := e.postForm(http.DefaultClient, "/authorize", form, nil)
	if resp.StatusCode != http.StatusOK || body != "ok" {
		e.t.Fatalf("POST /authorize ended with %d %q, want the callback's 200", resp.StatusCode, body)
	}
	q := <-e.got
	if q.Get("state") != "state-123" || q.Get("iss") != e.srv.URL || q.Get("code") == "" {
		e.t.Fatalf("callback query = %v, want code, state and iss", q)
	}
	return q.Get("code")
}

func (e *env) exchange(code, verifier string) (int, map[string]any) {
	return e.token(url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {"chainctl"},
		"code":          {code},
		"redirect_uri":  {e.redirect},
		"code_verifier": {verifier},
	})
}

type idClaims struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	AuthTime      int64  `json:"auth_time"`
}

// verify checks an ID token with go-oidc, a verifier independent of ours.
func (e *env) verify(rawIDToken, nonce string) (*oidc.IDToken, idClaims) {
	e.t.Helper()
	ctx := e.t.Context()
	op, err := oidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		e.t.Fatalf("oidc.NewProvider: %v", err)
	}
	tok, err := op.Verifier(&oidc.Config{ClientID: "chainctl", Now: e.clock.Now}).Verify(ctx, rawIDToken)
	if err != nil {
		e.t.Fatalf("Verify(id_token) = %v", err)
	}
	if tok.Nonce != nonce {
		e.t.Errorf("nonce = %q, want %q", tok.Nonce, nonce)
	}
	var c idClaims
	if err := tok.Claims(&c); err != nil {
		e.t.Fatal(err)
	}
	return tok, c
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	_, body := e.get(http.DefaultClient, e.srv.URL+"/.well-known/openid-configuration")
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                                e.srv.URL,
		"authorization_endpoint":                e.srv.URL + "/authorize",
		"token_endpoint":                        e.srv.URL + "/token",
		"jwks_uri":                              e.srv.URL + "/jwks",
		"device_authorization_endpoint":         e.srv.URL + "/device_authorization",
		"response_types_supported":              []any{"code"},
		"grant_types_supported":                 []any{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code", devidp.DevUserGrantType},
		"code_challenge_methods_supported":      []any{"S256"},
		"id_token_signing_alg_values_supported": []any{"ES256"},
		"scopes_supported":                      []any{"openid", "email", "profile"},
	}
	for k, v := range want {
		if g, _ := json.Marshal(d[k]); string(g) != string(must(json.Marshal(v))) {
			t.Errorf("discovery[%s] = %s, want %v", k, g, v)
		}
	}
	_, jwks := e.get(http.DefaultClient, e.srv.URL+"/jwks")
	if strings.Contains(jwks, `"d"`) || !strings.Contains(jwks, `"alg":"ES256"`) {
		t.Errorf("jwks = %s, want one public ES256 key", jwks)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPagesEscapeAndHeaders(t *testing.T) {
	e := newEnv(t, devidp.WithUser(devidp.User{Subject: `"><script>alert(1)</script>`, Name: `<b>Mallory</b>`}))
	resp, body := e.get(e.noFollow, e.srv.URL+"/authorize?"+e.authParams(oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())).Encode())
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>Mallory") || !strings.Contains(body, "&lt;b&gt;Mallory") {
		t.Errorf("login page does not escape the user:\n%s", body)
	}
	for _, want := range []string{`id="signin"`, "chainctl development login", "Development identity provider"} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	h := resp.Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("Cache-Control") != "no-store" {
		t.Errorf("login page headers = %v", h)
	}

	_, body = e.get(http.DefaultClient, e.srv.URL+"/device?user_code="+url.QueryEscape(`"><img src=x>`))
	if strings.Contains(body, "<img") {
		t.Errorf("device page echoes markup:\n%s", body)
	}
}

func TestRefusesOtherHosts(t *testing.T) {
	// DNS rebinding: a name that resolves to 127.0.0.1 but is not the issuer's.
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/.well-known/openid-configuration", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("GET with Host evil.example = %d, want 421", resp.StatusCode)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		issuer string
		opts   []devidp.Option
	}{
		{"not loopback", "http://example.com", nil},
		{"bad scheme", "ftp://127.0.0.1:1", nil},
		{"query", "http://127.0.0.1:1/?x=1", nil},
		{"odd path", "http://127.0.0.1:1/{x}", nil},
		{"no client ids", "http://127.0.0.1:1", []devidp.Option{devidp.WithClientIDs()}},
		{"empty subject", "http://127.0.0.1:1", []devidp.Option{devidp.WithUser(devidp.User{Email: "x@y"})}},
		{"short lifetime", "http://127.0.0.1:1", []devidp.Option{devidp.WithTokenLifetime(time.Second)}},
		{"fractional interval", "http://127.0.0.1:1", []devidp.Option{devidp.WithDevicePollInterval(1500 * time.Millisecond)}},
		{"zero max pending", "http://127.0.0.1:1", []devidp.Option{devidp.WithMaxPending(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := devidp.New(tt.issuer, tt.opts...); err == nil {
				t.Errorf("New(%q) = nil error, want one", tt.issuer)
			}
		})
	}

	p, err := devidp.New("http://localhost:5000/dev/")
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	if p.Issuer() != "http://localhost:5000/dev/" || p.ClientID() != "chainctl" || p.User().Subject != "dev" ||
		len(p.PublicKeys().Keys) != 1 || !p.PublicKeys().Keys[0].IsPublic() {
		t.Errorf("accessors: %q %q %+v", p.Issuer(), p.ClientID(), p.User())
	}
	// The handler serves under the issuer's path.
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost:5000/dev/.well-known/openid-configuration", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"token_endpoint":"http://localhost:5000/dev/token"`) {
		t.Errorf("discovery under a path = %d %s", rec.Code, rec.Body)
	}
}
