package login_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/oidc/login"
)

func TestDiscover(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"issuer": "https://evil.test", "client_id": "x", "token_exchange_endpoint": "https://evil.test"})
	}))
	defer other.Close()
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		want        func(base string) *login.Config
		wantErr     error
		wantText    string
		wantErrType any
	}{
		{
			name: "ok with relative endpoint",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/.well-known/chainctl-configuration" {
					http.NotFound(w, r)
					return
				}
				writeJSON(w, http.StatusOK, map[string]any{
					"issuer": "https://idp.test", "client_id": "chainctl", "scopes": []string{"openid", "email"},
					"token_exchange_endpoint": "/oauth/token", "token_endpoint": "/token", "service": "reg", "future": true,
				})
			},
			want: func(base string) *login.Config {
				return &login.Config{Issuer: "https://idp.test", ClientID: "chainctl", Scopes: []string{"openid", "email"},
					TokenExchangeEndpoint: base + "/oauth/token", TokenEndpoint: base + "/token", Service: "reg"}
			},
		},
		{
			// No login provider: still a registry CI tokens can be exchanged at.
			name: "no provider",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, map[string]any{"token_exchange_endpoint": "/oauth/token", "service": "r"})
			},
			want: func(base string) *login.Config {
				return &login.Config{TokenExchangeEndpoint: base + "/oauth/token", Service: "r"}
			},
		},
		{
			name: "no exchange endpoint",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, map[string]any{"issuer": "https://idp.test", "client_id": "c"})
			},
			wantText: "no token_exchange_endpoint",
		},
		{
			name:        "not found",
			handler:     http.NotFound,
			wantErrType: new(*login.HTTPError),
			wantText:    "404",
		},
		{
			name: "not json",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>"))
			},
			wantText: "not application/json",
		},
		{
			name: "too large",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("a", 70<<10) + `"}`))
			},
			wantText: "larger than",
		},
		{
			name: "redirect to another host",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/.well-known/chainctl-configuration", http.StatusFound)
			},
			wantText: "refusing redirect",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			got, err := login.Discover(context.Background(), srv.Client(), srv.URL+"/")
			if tt.want != nil {
				if err != nil || !reflect.DeepEqual(got, tt.want(srv.URL)) {
					t.Errorf("Discover() = %+v, %v, want %+v", got, err, tt.want(srv.URL))
				}
				return
			}
			if err == nil {
				t.Fatalf("Discover() = %+v, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Discover() = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErrType != nil && !errors.As(err, tt.wantErrType) {
				t.Errorf("Discover() = %v (%T), want %T", err, err, tt.wantErrType)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Discover() = %v, want it to mention %q", err, tt.wantText)
			}
		})
	}
}

func TestDiscoverBareHostIsHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"issuer": "https://idp.test", "client_id": "c", "token_exchange_endpoint": "/oauth/token"})
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	got, err := login.Discover(context.Background(), srv.Client(), host)
	if err != nil {
		t.Fatalf("Discover(%q) = %v", host, err)
	}
	if want := srv.URL + "/oauth/token"; got.TokenExchangeEndpoint != want {
		t.Errorf("TokenExchangeEndpoint = %q, want %q", got.TokenExchangeEndpoint, want)
	}
}

func TestDiscoverBadURL(t *testing.T) {
	for _, raw := range []string{"", "ftp://x", "https://u:p@host", "https://host?q=1"} {
		if _, err := login.Discover(context.Background(), nil, raw); err == nil {
			t.Errorf("Discover(%q) = nil error, want one", raw)
		}
	}
}
