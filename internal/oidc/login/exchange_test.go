package login_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/oidc/login"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func TestExchange(t *testing.T) {
	tests := []struct {
		name     string
		identity string
		status   int
		body     string
		want     *login.Session
		wantErr  error
		wantText string
	}{
		{
			name:   "ok",
			status: http.StatusOK,
			body:   `{"access_token":"sess","issued_token_type":"urn:ietf:params:oauth:token-type:jwt","token_type":"Bearer","expires_in":3600,"identity":"dev"}`,
			want:   &login.Session{Token: "sess", Identity: "dev", Expiry: time.Unix(1000, 0).Add(time.Hour)},
		},
		{
			name:     "chosen identity",
			identity: "two-b",
			status:   http.StatusOK,
			body:     `{"access_token":"sess","expires_in":60}`,
			want:     &login.Session{Token: "sess", Identity: "two-b", Expiry: time.Unix(1060, 0)},
		},
		{
			name:     "several identities",
			status:   http.StatusBadRequest,
			body:     `{"error":"invalid_request","error_description":"the token matches several identities (two-a, two-b); choose one with the identity parameter"}`,
			wantErr:  login.ErrIdentityRequired,
			wantText: "(two-a, two-b); choose one",
		},
		{
			name:     "no identity matches",
			status:   http.StatusUnauthorized,
			body:     `{"error":"invalid_grant","error_description":"the token matches no identity of this registry"}`,
			wantErr:  login.ErrInvalidGrant,
			wantText: "matches no identity",
		},
		{
			name:     "issuer unreachable",
			status:   http.StatusServiceUnavailable,
			body:     `{"error":"temporarily_unavailable","error_description":"try again"}`,
			wantErr:  login.ErrTemporarilyUnavailable,
			wantText: "try again",
		},
		{
			name:     "not oauth",
			status:   http.StatusBadGateway,
			body:     `<html>bad gateway</html>`,
			wantText: "502",
		},
		{
			name:     "no token",
			status:   http.StatusOK,
			body:     `{"token_type":"Bearer"}`,
			wantText: "no access_token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
					t.Errorf("exchange request %s: %v", r.Method, err)
				}
				want := url.Values{
					"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
					"subject_token":      {"idtoken"},
					"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
				}
				if tt.identity != "" {
					want.Set("identity", tt.identity)
				}
				if got := r.PostForm.Encode(); got != want.Encode() {
					t.Errorf("exchange form = %s, want %s", got, want.Encode())
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			cfg := &login.Config{TokenExchangeEndpoint: srv.URL + "/oauth/token"}
			got, err := login.Exchange(context.Background(), srv.Client(), cfg, "idtoken", tt.identity,
				login.WithClock(func() time.Time { return time.Unix(1000, 0) }))
			if tt.want != nil {
				if err != nil || *got != *tt.want {
					t.Errorf("Exchange() = %+v, %v, want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Exchange() = %+v, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Exchange() = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Exchange() = %v, want it to mention %q", err, tt.wantText)
			}
		})
	}
}

// TestLoginEndToEnd runs the whole login against the real pieces: the
// registry's auth service with identities bound (by static keys) to the
// development provider, its login configuration, a browser login at the
// provider and the exchange.
func TestLoginEndToEnd(t *testing.T) {
	ctx := context.Background()
	env := newIDP(t)
	keys, err := json.Marshal(env.provider.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	iss, err := issuer.New(ctx, db, issuer.WithIssuerURL("https://registry.test"))
	if err != nil {
		t.Fatal(err)
	}
	ident := func(id string, repo policy.RepositoryPattern) policy.Identity {
		return policy.Identity{ID: id, Issuer: env.cfg.Issuer, IssuerKeys: policy.JWKS(keys), Subject: "dev",
			Audience: env.cfg.ClientID, Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{repo}}}}
	}
	svc, err := auth.NewService(auth.WithSigner(iss), auth.WithServiceName("registry.test"),
		auth.WithRealm("https://registry.test/token"),
		auth.WithIdentities(ident("dev-a", "acme/a"), ident("dev-b", "acme/b")))
	if err != nil {
		t.Fatalf("auth.NewService() = %v", err)
	}
	mux := http.NewServeMux()
	reg := httptest.NewServer(mux)
	t.Cleanup(reg.Close)
	mux.Handle("/", svc.Handler())
	mux.Handle(auth.LoginConfigPath, auth.LoginConfigHandler(auth.LoginConfig{
		Issuer: env.cfg.Issuer, ClientID: env.cfg.ClientID, Scopes: env.cfg.Scopes,
		TokenExchangeEndpoint: "/oauth/token", TokenEndpoint: reg.URL + "/token", Service: "registry.test",
	}))

	cfg, err := login.Discover(ctx, reg.Client(), reg.URL)
	if err != nil {
		t.Fatalf("Discover() = %v", err)
	}
	if cfg.TokenExchangeEndpoint != reg.URL+"/oauth/token" || cfg.Issuer != env.cfg.Issuer || cfg.Service != "registry.test" {
		t.Errorf("Discover() = %+v", cfg)
	}
	b := &browser{t: t, idp: env}
	tok, err := login.Browser(ctx, cfg, login.WithBrowserOpener(b.open), login.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("Browser() = %v", err)
	}

	_, err = login.Exchange(ctx, reg.Client(), cfg, tok.Raw, "")
	if !errors.Is(err, login.ErrIdentityRequired) || !strings.Contains(err.Error(), "dev-a, dev-b") {
		t.Errorf("Exchange(no identity) = %v, want ErrIdentityRequired naming dev-a, dev-b", err)
	}
	_, err = login.Exchange(ctx, reg.Client(), cfg, tok.Raw, "someone-else")
	if !errors.Is(err, login.ErrInvalidGrant) {
		t.Errorf("Exchange(someone-else) = %v, want ErrInvalidGrant", err)
	}
	s, err := login.Exchange(ctx, reg.Client(), cfg, tok.Raw, "dev-b")
	if err != nil {
		t.Fatalf("Exchange(dev-b) = %v", err)
	}
	if s.Identity != "dev-b" || s.Token == "" || time.Until(s.Expiry) < time.Minute {
		t.Errorf("Exchange(dev-b) = identity %q, expiry %v, want dev-b with a future expiry", s.Identity, s.Expiry)
	}
	// The session works at the registry's token endpoint.
	req, _ := http.NewRequest(http.MethodGet, cfg.TokenEndpoint+"?service=registry.test&scope=repository:acme/b:pull", nil)
	req.SetBasicAuth("_token", s.Token)
	resp, err := reg.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /token with the session = %d, want 200", resp.StatusCode)
	}
}
