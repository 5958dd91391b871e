package login_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chainctl/chainctl/internal/oidc/login"
)

func TestDevUser(t *testing.T) {
	env := newIDP(t)
	tok, err := login.DevUser(t.Context(), env.cfg)
	if err != nil {
		t.Fatalf("DevUser() = %v", err)
	}
	if tok.Subject != "dev" || tok.Email != "dev@localhost" || tok.Issuer != env.provider.Issuer() || tok.Raw == "" {
		t.Errorf("DevUser() = %+v, want the development user's verified token", tok)
	}
}

func TestDevUserRefusesOtherProviders(t *testing.T) {
	// A loopback provider that does not offer the dev-user grant: a real
	// IdP run locally, say. No token request may reach it.
	var tokenRequests int
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks",
				"authorization_endpoint": srv.URL + "/authorize",
				"grant_types_supported":  []string{"authorization_code"},
			})
		case "/token":
			tokenRequests++
			http.Error(w, "no", http.StatusBadRequest)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		cfg     *login.Config
		wantErr error
	}{
		{name: "remote issuer", cfg: &login.Config{Issuer: "https://accounts.example.com", ClientID: "chainctl"}, wantErr: login.ErrNotDev},
		{name: "loopback issuer without the grant", cfg: &login.Config{Issuer: srv.URL, ClientID: "chainctl"}, wantErr: login.ErrNotDev},
		{name: "no provider", cfg: &login.Config{}, wantErr: login.ErrNoProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := login.DevUser(t.Context(), tt.cfg); !errors.Is(err, tt.wantErr) {
				t.Errorf("DevUser() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if tokenRequests != 0 {
		t.Errorf("%d token requests reached a provider that is not the dev one", tokenRequests)
	}
}
