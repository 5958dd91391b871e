package login_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/oidc/devidp"
	"github.com/chainctl/chainctl/internal/oidc/login"
)

func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Now().Truncate(time.Second)) }

// idp is the development provider served on loopback.
type idp struct {
	provider *devidp.Provider
	srv      *httptest.Server
	cfg      *login.Config
}

func newIDP(t *testing.T, opts ...devidp.Option) *idp {
	t.Helper()
	// The issuer URL must be known before New, so take the listener first.
	srv := httptest.NewUnstartedServer(nil)
	p, err := devidp.New("http://"+srv.Listener.Addr().String(), opts...)
	if err != nil {
		t.Fatalf("devidp.New() = %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &idp{provider: p, srv: srv, cfg: &login.Config{
		Issuer:                p.Issuer(),
		ClientID:              p.ClientID(),
		Scopes:                p.Scopes(),
		TokenExchangeEndpoint: "http://127.0.0.1:1/oauth/token",
	}}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of an HTML page.
func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#61;", "=", "&amp;", "&", "&#34;", `"`, "&#39;", "'").Replace(s)
}

// noFollow is a client that acts as a browser but stops at redirects.
func noFollow() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, raw string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(raw)
	if err != nil {
		t.Fatalf("GET %s: %v", raw, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postForm(t *testing.T, c *http.Client, raw string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(raw, form)
	if err != nil {
		t.Fatalf("POST %s: %v", raw, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// rewriteTransport lets a test tamper with requests to the token endpoint.
type rewriteTransport struct {
	// rewrite may change the form of an authorization_code token request.
	rewrite func(url.Values)
	// replay sends each authorization_code token request twice and
	// returns the second answer, as an attacker replaying a code would.
	replay bool
}

func (rt *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/token") || req.Body == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil || form.Get("grant_type") != "authorization_code" {
		return send(req, b)
	}
	if rt.rewrite != nil {
		rt.rewrite(form)
		b = []byte(form.Encode())
	}
	if rt.replay {
		resp, err := send(req, b)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return send(req, b)
}

func send(req *http.Request, body []byte) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return http.DefaultTransport.RoundTrip(r)
}
