package devidp

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// loginRequest is a validated authorization request waiting for the user to
// press "Sign in" on the login page.
type loginRequest struct {
	clientID    string
	redirectURI string
	redirect    *url.URL
	state       string
	nonce       string
	challenge   string // RFC 7636 S256 code_challenge
	scopes      []string
	csrf        string // must come back with the form
	expires     time.Time
}

// authCode is an issued authorization code, bound to the request that asked
// for it (RFC 6749 §4.1.3, RFC 7636 §4.6).
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	scopes      []string
	authTime    time.Time
	expires     time.Time
}

const (
	maxParamLen    = 512      // state, nonce
	maxRedirectLen = 2048     // redirect_uri
	maxFormBytes   = 64 << 10 // any POST body
)

// serveAuthorize validates an authorization request (RFC 6749 §4.1.1 with
// RFC 7636 §4.3) and shows the login page.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Until client_id and redirect_uri are known good, errors are shown
	// here and never redirected (RFC 6749 §4.1.2.1): no open redirects.
	clientID := q.Get("client_id")
	if len(q["client_id"]) != 1 || !p.allowedClient(clientID) {
		p.logger.Debug("devidp: authorize refused", "reason", "unknown client_id")
		p.renderMessage(w, http.StatusBadRequest, "Unknown client",
			"This sign-in request names a client that this development provider does not know.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	redirect, err := parseLoopbackRedirect(redirectURI)
	if len(q["redirect_uri"]) != 1 || err != nil {
		p.logger.Debug("devidp: authorize refused", "reason", "invalid redirect_uri", "err", err)
		p.renderMessage(w, http.StatusBadRequest, "Invalid redirect address",
			"The redirect_uri must be a loopback address such as http://127.0.0.1:PORT/callback (RFC 8252 §7.3).")
		return
	}

	// From here on, errors go back to the client.
	state := q.Get("state")
	if len(state) > maxParamLen {
		state = ""
	}
	fail := func(code, desc string) {
		p.logger.Debug("devidp: authorize refused", "error", code, "reason", desc)
		http.Redirect(w, r, p.withParams(redirect, url.Values{
			"error": {code}, "error_description": {desc}, "state": {state},
		}), http.StatusFound)
	}
	// Parameters may each appear at most once (RFC 6749 §3.1).
	for _, name := range []string{"response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
		if len(q[name]) > 1 {
			fail("invalid_request", name+" given more than once")
			return
		}
	}
	nonce := q.Get("nonce")
	scopes, scopeErr := parseScopes(q.Get("scope"), true)
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
	case state == "":
		fail("invalid_request", "state is required (at most 512 characters)")
	case nonce == "" || len(nonce) > maxParamLen:
		fail("invalid_request", "nonce is required (at most 512 characters)")
	case scopeErr != nil:
		fail("invalid_scope", scopeErr.Error())
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE is required: code_challenge_method must be S256")
	case !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", "PKCE is required: code_challenge must be a base64url SHA-256 digest")
	default:
		p.startLogin(w, &loginRequest{
			clientID:    clientID,
			redirectURI: redirectURI,
			redirect:    redirect,
			state:       state,
			nonce:       nonce,
			challenge:   q.Get("code_challenge"),
			scopes:      scopes,
		}, fail)
	}
}

func (p *Provider) startLogin(w http.ResponseWriter, req *loginRequest, fail func(code, desc string)) {
	id := randomToken()
	req.csrf = randomToken()
	now := p.now()
	req.expires = now.Add(loginTTL)
	p.mu.Lock()
	ok := p.logins.put(now, id, req)
	p.mu.Unlock()
	if !ok {
		fail("temporarily_unavailable", "too many pending logins, try again later")
		return
	}
	p.renderPage(w, http.StatusOK, "login", loginPage{
		Issuer:    p.issuer,
		Action:    p.path + "/authorize",
		User:      p.user,
		ClientID:  req.clientID,
		ReturnTo:  req.redirect.Scheme + "://" + req.redirect.Host,
		Scopes:    req.scopes,
		RequestID: id,
		CSRF:      req.csrf,
	})
}

// serveAuthorizeSubmit handles the login form: "Sign in" issues a code,
// "Cancel" answers access_denied, both by redirecting to the client.
func (p *Provider) serveAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	f := r.PostForm
	action := f.Get("action")
	if action != "approve" && action != "cancel" {
		p.renderMessage(w, http.StatusBadRequest, "Bad request", "The form was not submitted from the login page.")
		return
	}
	id, csrf := f.Get("request"), f.Get("csrf_token")
	now := p.now()

	p.mu.Lock()
	req, ok := p.logins.m[id]
	if ok && now.After(req.expires) {
		delete(p.logins.m, id)
		ok = false
	}
	if !ok {
		p.mu.Unlock()
		p.renderMessage(w, http.StatusBadRequest, "Sign-in expired",
			"This sign-in request has expired or was already used. Start again from chainctl.")
		return
	}
	if csrf == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(req.csrf)) != 1 {
		p.mu.Unlock()
		p.logger.Warn("devidp: login form refused", "reason", "csrf token mismatch")
		p.renderMessage(w, http.StatusForbidden, "Forbidden", "The form's security token did not match. Start again from chainctl.")
		return
	}
	delete(p.logins.m, id) // one submission per request
	var code string
	if action == "approve" {
		code = randomToken()
		ok = p.codes.put(now, digest(code), &authCode{
			clientID:    req.clientID,
			redirectURI: req.redirectURI,
			challenge:   req.challenge,
			nonce:       req.nonce,
			scopes:      req.scopes,
			authTime:    now,
			expires:     now.Add(codeTTL),
		})
	}
	p.mu.Unlock()

	params := url.Values{"state": {req.state}}
	switch {
	case action == "cancel":
		p.logger.Info("devidp: login cancelled", "client_id", req.clientID)
		params.Set("error", "access_denied")
		params.Set("error_description", "the user cancelled the login")
	case !ok:
		params.Set("error", "temporarily_unavailable")
		params.Set("error_description", "too many pending codes, try again later")
	default:
		p.logger.Info("devidp: login approved", "client_id", req.clientID, "sub", p.user.Subject)
		params.Set("code", code)
	}
	http.Redirect(w, r, p.withParams(req.redirect, params), http.StatusSeeOther)
}

// withParams returns redirect with params added to its query. It adds iss to
// error responses too (RFC 9207 §2).
func (p *Provider) withParams(redirect *url.URL, params url.Values) string {
	u := *redirect
	q := u.Query()
	for k, v := range params {
		if len(v) == 1 && v[0] == "" {
			continue
		}
		q[k] = v
	}
	if q.Get("iss") == "" {
		q.Set("iss", p.issuer)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// parseLoopbackRedirect accepts only a native app's loopback redirect URI:
// http, host 127.0.0.1, [::1] or localhost, any port (RFC 8252 §7.3, §8.3),
// no user info, no fragment (RFC 6749 §3.1.2).
func parseLoopbackRedirect(raw string) (*url.URL, error) {
	if raw == "" || len(raw) > maxRedirectLen || strings.Contains(raw, "#") {
		return nil, errors.New("empty, too long or has a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Opaque != "" || u.User != nil {
		return nil, errors.New("not an http url without user info")
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "::1" && !strings.EqualFold(h, "localhost") {
		return nil, fmt.Errorf("host %q is not loopback", h)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", port)
		}
	}
	if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("empty port")
	}
	return u, nil
}

// parseScopes splits a scope parameter. Every scope must be supported; when
// requireOpenID is set, openid must be among them (OpenID Connect Core §3.1.2.1).
func parseScopes(s string, requireOpenID bool) ([]string, error) {
	scopes := strings.Fields(s)
	if len(scopes) == 0 && !requireOpenID {
		return supportedScopes(), nil
	}
	hasOpenID := false
	for _, sc := range scopes {
		switch sc {
		case "openid":
			hasOpenID = true
		case "email", "profile":
		default:
			return nil, fmt.Errorf("unsupported scope %q", sc)
		}
	}
	if !hasOpenID {
		return nil, errors.New("scope must include openid")
	}
	return scopes, nil
}

// validChallenge reports whether s is BASE64URL(SHA256(verifier)) without
// padding, 43 characters (RFC 7636 §4.2).
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// validVerifier reports whether s is a code_verifier: 43 to 128 unreserved
// characters (RFC 7636 §4.1).
func validVerifier(s string) bool {
	return len(s) >= 43 && len(s) <= 128 && !strings.ContainsFunc(s, func(r rune) bool { return !isUnreserved(r) })
}

// parseForm reads a POSTed form of bounded size and checks that a browser
// sent it from our own origin; it writes the error response itself.
func (p *Provider) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.renderMessage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	// Browsers send Origin with every POST; a form on another page, or one
	// whose origin is hidden ("null"), is refused. Non-browser clients send
	// none and rely on the CSRF token alone.
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, p.origin) {
		p.logger.Warn("devidp: form refused", "reason", "cross-origin post")
		p.renderMessage(w, http.StatusForbidden, "Forbidden", "This form may only be submitted from this page.")
		return false
	}
	return true
}
