package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
)

// tokenResponse is a successful token response (RFC 6749 §5.1, OpenID
// Connect Core §3.1.3.3).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token"`
	Scope       string `json:"scope,omitempty"`
}

// oauthError is an error response (RFC 6749 §5.2, RFC 8628 §3.5).
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(desc string) error {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

func errInvalidGrant(desc string) error {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_grant", Description: desc}
}

func errInvalidClient(desc string) error {
	return &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: desc}
}

// writeOAuthError is the one writer of token and device endpoint errors.
// Anything that is not an *oauthError is logged and becomes server_error.
func (p *Provider) writeOAuthError(w http.ResponseWriter, err error) {
	var oe *oauthError
	if !errors.As(err, &oe) {
		p.logger.Error("devidp: internal error", "err", err)
		oe = &oauthError{status: http.StatusInternalServerError, Code: "server_error", Description: "internal error"}
	}
	if oe.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="chainctl development provider"`)
	}
	writeJSON(w, oe.status, oe)
}

// serveToken is the token endpoint (RFC 6749 §3.2): the authorization_code
// grant with PKCE, the device_code grant (RFC 8628 §3.4) and
// DevUserGrantType.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	resp, err := p.token(w, r)
	if err != nil {
		p.writeOAuthError(w, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, error) {
	clientID, err := p.readClient(w, r)
	if err != nil {
		return nil, err
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		return p.exchangeCode(clientID, r.PostForm)
	case deviceGrantType:
		return p.pollDevice(clientID, r.PostForm)
	case DevUserGrantType:
		return p.devUser(clientID, r)
	case "":
		return nil, errInvalidRequest("grant_type is required")
	default:
		return nil, &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Description: "grant_type must be authorization_code, " + deviceGrantType + " or " + DevUserGrantType}
	}
}

// readClient reads a form POSTed to the token or device authorization
// endpoint and returns its public client id, given in the form or, as some
// libraries send it, as the user of HTTP Basic with an empty password
// (RFC 6749 §2.3.1). A client secret is refused: the clients are public.
func (p *Provider) readClient(w http.ResponseWriter, r *http.Request) (string, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return "", errInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return "", errInvalidRequest("the form could not be read")
	}
	for name, vs := range r.PostForm {
		if len(vs) > 1 {
			return "", errInvalidRequest(name + " given more than once")
		}
	}
	id := r.PostForm.Get("client_id")
	if user, pass, ok := r.BasicAuth(); ok {
		name, err := url.QueryUnescape(user)
		switch {
		case err != nil || name == "":
			return "", errInvalidClient("malformed client credentials")
		case pass != "":
			return "", errInvalidClient("public clients have no secret")
		case id != "" && id != name:
			return "", errInvalidRequest("client_id differs from the Authorization header")
		}
		id = name
	}
	switch {
	case r.PostForm.Get("client_secret") != "":
		return "", errInvalidClient("public clients have no secret")
	case id == "":
		return "", errInvalidClient("client_id is required")
	case !p.allowedClient(id):
		return "", errInvalidClient("unknown client")
	}
	return id, nil
}

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3) after
// checking the PKCE verifier (RFC 7636 §4.6).
func (p *Provider) exchangeCode(clientID string, f url.Values) (*tokenResponse, error) {
	code, verifier := f.Get("code"), f.Get("code_verifier")
	if code == "" {
		return nil, errInvalidRequest("code is required")
	}
	key := digest(code)
	now := p.now()
	p.mu.Lock()
	c, ok := p.codes.m[key]
	// Single use: even a failed attempt spends the code, so a stolen code
	// cannot be tried with guessed verifiers.
	delete(p.codes.m, key)
	p.mu.Unlock()

	switch {
	case !ok || now.After(c.expires):
		return nil, errInvalidGrant("the code is invalid, expired or already used")
	case c.clientID != clientID:
		return nil, errInvalidGrant("the code was issued to another client")
	case c.redirectURI != f.Get("redirect_uri"):
		return nil, errInvalidGrant("redirect_uri does not match the authorization request")
	case verifier == "":
		return nil, errInvalidRequest("code_verifier is required (PKCE)")
	case !pkceMatches(verifier, c.challenge):
		return nil, errInvalidGrant("PKCE verification failed")
	}
	p.logger.Info("devidp: tokens issued", "grant_type", "authorization_code", "client_id", clientID, "sub", p.user.Subject)
	return p.issueTokens(clientID, c.nonce, c.scopes, c.authTime)
}

// pkceMatches reports whether BASE64URL(SHA256(verifier)) equals challenge,
// comparing in constant time (RFC 7636 §4.6).
func pkceMatches(verifier, challenge string) bool {
	if !validVerifier(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// DevUserGrantType is the grant with which a program on this machine
// (`chainctl auth login --dev`) gets an ID token for the development user
// directly, without a browser: the token endpoint answers it with the same
// tokens a click on the login page would give.
//
// It is no wider an opening than the login page: whoever reaches the
// provider (loopback only, Host checked) can already sign in there with one
// click. And it cannot be abused from a web page as the pages could without
// their CSRF tokens: a cross-site form post would change nothing (the grant
// keeps no state, unlike approving a device code) and could not read the
// answer (no CORS headers), and a request that carries an Origin header,
// as every browser's POST does, is refused outright.
const DevUserGrantType = "urn:chainctl:params:oauth:grant-type:dev-user"

// devUser answers DevUserGrantType: tokens for the user, with the scopes
// asked for (openid required), for a request no browser sent.
func (p *Provider) devUser(clientID string, r *http.Request) (*tokenResponse, error) {
	if r.Header.Get("Origin") != "" {
		return nil, &oauthError{status: http.StatusForbidden, Code: "access_denied",
			Description: "this grant is for programs on this machine, not browsers"}
	}
	scopes, err := parseScopes(r.PostForm.Get("scope"), true)
	if err != nil {
		return nil, errInvalidRequest(err.Error())
	}
	now := p.now()
	p.logger.Info("devidp: tokens issued", "grant_type", DevUserGrantType, "client_id", clientID, "sub", p.user.Subject)
	return p.issueTokens(clientID, "", scopes, now)
}
