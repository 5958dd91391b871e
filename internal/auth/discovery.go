package auth

import (
	"encoding/json"
	"net/http"
)

// LoginConfigPath is where the registry tells `chainctl auth login` which
// identity provider to log in with.
const LoginConfigPath = "/.well-known/chainctl-configuration"

// LoginConfig is the document served at LoginConfigPath.
type LoginConfig struct {
	// Issuer and ClientID name the identity provider and the public OAuth
	// client chainctl logs in as; both empty when none is configured.
	Issuer   string   `json:"issuer,omitempty"`
	ClientID string   `json:"client_id,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// TokenExchangeEndpoint exchanges the provider's ID token for a
	// session token (RFC 8693); TokenEndpoint is the Docker token endpoint.
	TokenExchangeEndpoint string `json:"token_exchange_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	// Service is the registry's service name (the "service" of challenges).
	Service string `json:"service"`
}

// LoginConfigHandler serves c as JSON.
func LoginConfigHandler(c LoginConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		if r.Method == http.MethodGet {
			_ = json.NewEncoder(w).Encode(c)
		}
	})
}
