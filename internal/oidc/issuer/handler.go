package issuer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Well-known paths, relative to the issuer URL.
const (
	// DiscoveryPath is the OpenID Connect Discovery 1.0 document (section
	// 4), which RFC 8414 section 5 also accepts.
	DiscoveryPath = "/.well-known/openid-configuration"
	// JWKSPath is the JWK Set (RFC 7517 section 5) of the public keys.
	JWKSPath = "/.well-known/jwks.json"
)

// How long clients may cache the documents. The JWKS changes at a
// rotation, when the new key signs at once; verifiers that refetch on an
// unknown kid (go-oidc does) cope, the others wait at most this long.
const (
	discoveryMaxAge = 3600
	jwksMaxAge      = 60
)

// discovery is the provider metadata. Besides what RFC 8414 requires,
// it has the members OpenID Connect Discovery requires of an issuer of
// ID-token-shaped JWTs (as Kubernetes' and GitHub Actions' issuers publish
// them), so that generic OIDC libraries accept the registry's tokens.
type discovery struct {
	Issuer            string   `json:"issuer"`
	JWKSURI           string   `json:"jwks_uri"`
	TokenEndpoint     string   `json:"token_endpoint"`
	GrantTypes        []string `json:"grant_types_supported"`
	ResponseTypes     []string `json:"response_types_supported"`
	SubjectTypes      []string `json:"subject_types_supported"`
	SigningAlgs       []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuth []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported   []string `json:"claims_supported"`
	ScopesSupported   []string `json:"scopes_supported"`
}

func discoveryDocument(issuerURL, tokenEndpoint string) ([]byte, error) {
	b, err := json.Marshal(discovery{
		Issuer:            issuerURL,
		JWKSURI:           issuerURL + JWKSPath,
		TokenEndpoint:     tokenEndpoint,
		GrantTypes:        []string{"urn:ietf:params:oauth:grant-type:token-exchange"},
		ResponseTypes:     []string{"id_token"},
		SubjectTypes:      []string{"public"},
		SigningAlgs:       []string{string(algorithm)},
		TokenEndpointAuth: []string{"none"},
		ClaimsSupported:   []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access", "act", "digest"},
		ScopesSupported:   []string{"openid"},
	})
	if err != nil {
		return nil, fmt.Errorf("encode discovery document: %w", err)
	}
	return b, nil
}

// Handler serves the discovery document and the JWKS at their paths
// under the issuer URL's path (DiscoveryPath, JWKSPath), for GET and
// HEAD; any other path is 404. The JWKS holds public keys only: every key
// that verifies, active or retired.
func (i *Issuer) Handler() http.Handler {
	u, _ := url.Parse(i.url) // checked by New
	prefix := u.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var maxAge int
		switch r.URL.Path {
		case prefix + DiscoveryPath:
			body, maxAge = i.discovery, discoveryMaxAge
		case prefix + JWKSPath:
			body, maxAge = i.fresh(r.Context()).jwks, jwksMaxAge
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body) //nolint:errcheck // the client went away
	})
}
