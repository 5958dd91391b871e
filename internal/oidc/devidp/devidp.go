// Package devidp is the development OpenID Connect provider that
// `chainctl registry serve --dev` embeds, so that a person can try browser
// login (authorization code with PKCE, RFC 6749 §4.1, RFC 7636, RFC 8252) and
// device login (RFC 8628) with no outside service, and so that tests can drive
// the same flows with a real browser.
//
// It knows one user, who signs in with one click, or, for a program on the
// same machine, with one request (DevUserGrantType). It is meant to be reachable
// on loopback only: New refuses an issuer whose host is not a loopback
// address, and the handler refuses requests whose Host header is not the
// issuer's, which defeats DNS rebinding. Its ES256 signing key is generated in
// memory by New and all state lives in memory, so a restart invalidates every
// code and token it issued.
package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// User is the one person the development provider signs in.
type User struct {
	Subject string // the ID token's sub claim; required
	Email   string // reported with email_verified=true when not empty
	Name    string
}

// Option configures a Provider.
type Option func(*Provider)

// WithLogger sets the logger; by default nothing is logged. Codes, tokens,
// verifiers and CSRF tokens are never logged.
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.logger = l } }

// WithClock sets the source of the current time (default time.Now).
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// WithUser sets the development user (default sub "dev", email "dev@localhost").
func WithUser(u User) Option { return func(p *Provider) { p.user = u } }

// WithClientIDs sets the public client ids that may use the provider
// (default "chainctl"). The first one is reported by ClientID.
func WithClientIDs(ids ...string) Option {
	return func(p *Provider) { p.clientIDs = append([]string(nil), ids...) }
}

// WithTokenLifetime sets how long issued ID and access tokens live (default 1h).
func WithTokenLifetime(d time.Duration) Option { return func(p *Provider) { p.tokenTTL = d } }

// WithDevicePollInterval sets the minimum polling interval announced by the
// device authorization endpoint (default 5s, the RFC 8628 default; whole
// seconds, at least 1s).
func WithDevicePollInterval(d time.Duration) Option {
	return func(p *Provider) { p.pollInterval = d }
}

// WithMaxPending caps each kind of pending state (login requests,
// authorization codes, device grants); new requests are refused while it is
// full (default 1024).
func WithMaxPending(n int) Option { return func(p *Provider) { p.maxPending = n } }

const (
	loginTTL  = 10 * time.Minute // from the login page to the click
	codeTTL   = time.Minute      // RFC 6749 §4.1.2: short-lived, 10 minutes at most
	deviceTTL = 10 * time.Minute // RFC 8628 §3.2 expires_in
	// deviceGrace keeps expired device grants long enough to answer
	// expired_token rather than invalid_grant to a late poll.
	deviceGrace = 10 * time.Minute

	deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"
)

// supportedScopes returns the scopes the provider knows; openid is required.
func supportedScopes() []string { return []string{"openid", "email", "profile"} }

// Provider is an in-memory development OpenID Connect provider. Create it with
// New; it is safe for concurrent use.
type Provider struct {
	issuer string // exactly as given to New; the iss of every token
	base   string // issuer without a trailing slash; endpoints hang off it
	host   string // issuer host[:port]; requests for any other Host are refused
	origin string // scheme://host[:port], which browsers send as Origin
	path   string // issuer path without a trailing slash

	logger       *slog.Logger
	now          func() time.Time
	user         User
	clientIDs    []string
	tokenTTL     time.Duration
	pollInterval time.Duration
	maxPending   int

	signer  jose.Signer
	jwks    jose.JSONWebKeySet
	pages   *template.Template
	csp     string
	handler http.Handler

	mu      sync.Mutex
	logins  table[string, *loginRequest]  // by request id
	codes   table[[32]byte, *authCode]    // by SHA-256 of the code
	devices table[[32]byte, *deviceGrant] // by SHA-256 of the device code
}

// New returns a provider whose issuer is issuerURL, an http or https URL on a
// loopback host (127.0.0.0/8, ::1 or localhost) with an optional path and no
// query. It generates a fresh ES256 signing key.
func New(issuerURL string, opts ...Option) (*Provider, error) {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return nil, fmt.Errorf("parse issuer url: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("issuer url %q: scheme must be http or https", issuerURL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return nil, fmt.Errorf("issuer url %q: must have no user info, query or fragment", issuerURL)
	case !isLoopbackHost(u.Hostname()):
		return nil, fmt.Errorf("issuer url %q: host must be a loopback address", issuerURL)
	case strings.ContainsFunc(u.Path, func(r rune) bool { return !isUnreserved(r) && r != '/' }):
		return nil, fmt.Errorf("issuer url %q: path may only contain unreserved characters", issuerURL)
	}
	p := &Provider{
		issuer:       issuerURL,
		base:         strings.TrimSuffix(issuerURL, "/"),
		host:         u.Host,
		origin:       u.Scheme + "://" + u.Host,
		path:         strings.TrimSuffix(u.Path, "/"),
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
		user:         User{Subject: "dev", Email: "dev@localhost", Name: "Development User"},
		clientIDs:    []string{"chainctl"},
		tokenTTL:     time.Hour,
		pollInterval: 5 * time.Second,
		maxPending:   1024,
	}
	for _, o := range opts {
		o(p)
	}
	switch {
	case p.logger == nil || p.now == nil:
		return nil, errors.New("logger and clock must not be nil")
	case p.user.Subject == "":
		return nil, errors.New("user subject must not be empty")
	case len(p.clientIDs) == 0 || slices.Contains(p.clientIDs, ""):
		return nil, errors.New("at least one non-empty client id is required")
	case p.tokenTTL < time.Minute:
		return nil, fmt.Errorf("token lifetime %s: must be at least 1m", p.tokenTTL)
	case p.pollInterval < time.Second || p.pollInterval%time.Second != 0:
		return nil, fmt.Errorf("device poll interval %s: must be whole seconds, at least 1s", p.pollInterval)
	case p.maxPending < 1:
		return nil, fmt.Errorf("max pending %d: must be positive", p.maxPending)
	}
	p.logins = newTable[string](p.maxPending, func(l *loginRequest) time.Time { return l.expires })
	p.codes = newTable[[32]byte](p.maxPending, func(c *authCode) time.Time { return c.expires })
	p.devices = newTable[[32]byte](p.maxPending, func(d *deviceGrant) time.Time { return d.expires.Add(deviceGrace) })

	if err := p.initKey(); err != nil {
		return nil, err
	}
	if p.pages, err = parsePages(); err != nil {
		return nil, err
	}
	p.csp = contentSecurityPolicy()
	p.handler = p.routes()
	return p, nil
}

func (p *Provider) initKey() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.ES256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb) // RFC 7638
	p.jwks = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}
	p.signer, err = jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return fmt.Errorf("create signer: %w", err)
	}
	return nil
}

// Issuer returns the issuer URL exactly as given to New.
func (p *Provider) Issuer() string { return p.issuer }

// ClientID returns the first allowed public client id, the one to announce.
func (p *Provider) ClientID() string { return p.clientIDs[0] }

// Scopes returns the scopes a client should request.
func (p *Provider) Scopes() []string { return supportedScopes() }

// User returns the development user every login signs in as.
func (p *Provider) User() User { return p.user }

// PublicKeys returns the key set that verifies the provider's tokens, the same
// one its JWKS endpoint serves.
func (p *Provider) PublicKeys() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), p.jwks.Keys...)}
}

// Handler returns the provider's HTTP handler. It serves full request paths
// under the issuer URL's path, so mount it there without stripping the prefix.
func (p *Provider) Handler() http.Handler { return p.handler }

func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p.path+"/.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET "+p.path+"/jwks", p.serveJWKS)
	mux.HandleFunc("GET "+p.path+"/authorize", p.serveAuthorize)
	mux.HandleFunc("POST "+p.path+"/authorize", p.serveAuthorizeSubmit)
	mux.HandleFunc("POST "+p.path+"/token", p.serveToken)
	mux.HandleFunc("POST "+p.path+"/device_authorization", p.serveDeviceAuthorization)
	mux.HandleFunc("GET "+p.path+"/device", p.serveDevice)
	mux.HandleFunc("POST "+p.path+"/device", p.serveDeviceSubmit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A page on another origin that rebinds its name to 127.0.0.1 would
		// otherwise be same-origin with us and could click through a login.
		if !strings.EqualFold(r.Host, p.host) {
			http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		// Not no-referrer: that would make browsers send "Origin: null"
		// with our own form posts, which parseForm refuses.
		h.Set("Referrer-Policy", "same-origin")
		mux.ServeHTTP(w, r)
	})
}

// discovery is the OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3,
// RFC 8414, RFC 8628 §4).
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	ResponseTypes                     []string `json:"response_types_supported"`
	ResponseModes                     []string `json:"response_modes_supported"`
	GrantTypes                        []string `json:"grant_types_supported"`
	SubjectTypes                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgs                []string `json:"id_token_signing_alg_values_supported"`
	Scopes                            []string `json:"scopes_supported"`
	Claims                            []string `json:"claims_supported"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseISSParameter bool     `json:"authorization_response_iss_parameter_supported"`
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                            p.issuer,
		AuthorizationEndpoint:             p.base + "/authorize",
		TokenEndpoint:                     p.base + "/token",
		JWKSURI:                           p.base + "/jwks",
		DeviceAuthorizationEndpoint:       p.base + "/device_authorization",
		ResponseTypes:                     []string{"code"},
		ResponseModes:                     []string{"query"},
		GrantTypes:                        []string{"authorization_code", deviceGrantType, DevUserGrantType},
		SubjectTypes:                      []string{"public"},
		IDTokenSigningAlgs:                []string{string(jose.ES256)},
		Scopes:                            supportedScopes(),
		Claims:                            []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name"},
		TokenEndpointAuthMethods:          []string{"none"},
		CodeChallengeMethods:              []string{"S256"},
		AuthorizationResponseISSParameter: true,
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	body, err := json.Marshal(p.jwks)
	if err != nil {
		p.logger.Error("devidp: encode jwks", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(body)
}

// idTokenClaims are the claims of an ID token (OpenID Connect Core §2, §5.1).
type idTokenClaims struct {
	jwt.Claims
	Nonce         string `json:"nonce,omitempty"`
	AuthTime      int64  `json:"auth_time,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
}

// issueTokens signs an ID token for the user and returns the token response.
// The access token is opaque: the provider protects no resource.
func (p *Provider) issueTokens(clientID, nonce string, scopes []string, authTime time.Time) (*tokenResponse, error) {
	now := p.now()
	claims := idTokenClaims{
		Claims: jwt.Claims{
			Issuer:   p.issuer,
			Subject:  p.user.Subject,
			Audience: jwt.Audience{clientID},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(p.tokenTTL)),
		},
		Nonce:         nonce,
		AuthTime:      authTime.Unix(),
		Email:         p.user.Email,
		EmailVerified: p.user.Email != "",
		Name:          p.user.Name,
	}
	idToken, err := jwt.Signed(p.signer).Claims(claims).Serialize()
	if err != nil {
		return nil, fmt.Errorf("sign id token: %w", err)
	}
	return &tokenResponse{
		AccessToken: randomToken(),
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.tokenTTL / time.Second),
		IDToken:     idToken,
		Scope:       strings.Join(scopes, " "),
	}, nil
}

// table is a bounded map of pending state whose entries expire.
type table[K comparable, V any] struct {
	m       map[K]V
	max     int
	expires func(V) time.Time // after this the entry may be dropped
}

func newTable[K comparable, V any](maxLen int, expires func(V) time.Time) table[K, V] {
	return table[K, V]{m: make(map[K]V), max: maxLen, expires: expires}
}

// put adds an entry, first dropping expired ones when the table is full; it
// reports false, adding nothing, when the table is still full.
func (t *table[K, V]) put(now time.Time, k K, v V) bool {
	if len(t.m) >= t.max {
		for k, v := range t.m {
			if now.After(t.expires(v)) {
				delete(t.m, k)
			}
		}
	}
	if len(t.m) >= t.max {
		return false
	}
	t.m[k] = v
	return true
}

func (p *Provider) allowedClient(id string) bool { return slices.Contains(p.clientIDs, id) }

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest keys secrets in maps, so that a lookup never compares secret bytes
// one by one.
func digest(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isUnreserved reports whether r is an RFC 3986 §2.3 unreserved character.
func isUnreserved(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' ||
		r == '-' || r == '.' || r == '_' || r == '~'
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
