package devidp

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type deviceStatus int

const (
	devicePending deviceStatus = iota
	deviceApproved
	deviceDenied
)

// deviceGrant is a device authorization (RFC 8628 §3.1) waiting for the user
// to approve it on the verification page and for the device to poll.
type deviceGrant struct {
	clientID string
	scopes   []string
	userCode string   // XXXX-XXXX, as shown to the user
	userKey  [32]byte // digest of the normalized user code
	csrf     string   // must come back with the approval form
	interval time.Duration
	lastPoll time.Time
	status   deviceStatus
	authTime time.Time
	expires  time.Time
}

// deviceAuthResponse is the device authorization response (RFC 8628 §3.2).
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// userCodeAlphabet has no vowels (no words) and no look-alike characters
// (RFC 8628 §6.1); 20^8 codes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func (p *Provider) serveDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	resp, err := p.deviceAuthorization(w, r)
	if err != nil {
		p.writeOAuthError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (p *Provider) deviceAuthorization(w http.ResponseWriter, r *http.Request) (*deviceAuthResponse, error) {
	clientID, err := p.readClient(w, r)
	if err != nil {
		return nil, err
	}
	scopes, err := parseScopes(r.PostForm.Get("scope"), false)
	if err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Description: err.Error()}
	}
	deviceCode := randomToken()
	now := p.now()
	g := &deviceGrant{
		clientID: clientID,
		scopes:   scopes,
		csrf:     randomToken(),
		interval: p.pollInterval,
		expires:  now.Add(deviceTTL),
	}

	p.mu.Lock()
	for range 10 { // user codes are unique among the grants we hold
		uc := newUserCode()
		if key := digest(uc); p.grantByUserKey(key) == nil {
			g.userCode, g.userKey = uc[:4]+"-"+uc[4:], key
			break
		}
	}
	ok := g.userCode != "" && p.devices.put(now, digest(deviceCode), g)
	p.mu.Unlock()
	if !ok {
		return nil, &oauthError{status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "too many pending device logins, try again later"}
	}
	p.logger.Info("devidp: device authorization started", "client_id", clientID)

	verify := p.base + "/device"
	return &deviceAuthResponse{
		DeviceCode:              deviceCode,
		UserCode:                g.userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?" + url.Values{"user_code": {g.userCode}}.Encode(),
		ExpiresIn:               int64(deviceTTL / time.Second),
		Interval:                int64(p.pollInterval / time.Second),
	}, nil
}

// pollDevice answers a device's token request (RFC 8628 §3.4, §3.5).
func (p *Provider) pollDevice(clientID string, f url.Values) (*tokenResponse, error) {
	deviceCode := f.Get("device_code")
	if deviceCode == "" {
		return nil, errInvalidRequest("device_code is required")
	}
	key := digest(deviceCode)
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.devices.m[key]
	switch {
	case !ok:
		return nil, errInvalidGrant("unknown device_code")
	case g.clientID != clientID:
		return nil, errInvalidGrant("the device_code was issued to another client")
	case now.After(g.expires):
		return nil, &oauthError{status: http.StatusBadRequest, Code: "expired_token",
			Description: "the device code has expired, start again"}
	}
	switch g.status {
	case deviceDenied:
		delete(p.devices.m, key)
		return nil, &oauthError{status: http.StatusBadRequest, Code: "access_denied", Description: "the user denied the request"}
	case deviceApproved:
		delete(p.devices.m, key) // tokens are handed out once
		p.logger.Info("devidp: tokens issued", "grant_type", "device_code", "client_id", clientID, "sub", p.user.Subject)
		return p.issueTokens(clientID, "", g.scopes, g.authTime)
	}
	// Still pending. A poll sooner than the interval (with a quarter of
	// slack for network jitter) gets slow_down, and the interval grows by
	// 5 seconds for this and every later request (RFC 8628 §3.5).
	tooSoon := !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < g.interval*3/4
	g.lastPoll = now
	if tooSoon {
		g.interval += 5 * time.Second
		return nil, &oauthError{status: http.StatusBadRequest, Code: "slow_down", Description: "polling too fast"}
	}
	return nil, &oauthError{status: http.StatusBadRequest, Code: "authorization_pending", Description: "waiting for the user"}
}

// serveDevice is the verification page (RFC 8628 §3.3): a form to enter the
// user code, or, given a valid code (as verification_uri_complete gives it),
// the request to approve or deny.
func (p *Provider) serveDevice(w http.ResponseWriter, r *http.Request) {
	entry := deviceEntryPage{Issuer: p.issuer, Action: p.path + "/device"}
	raw := r.URL.Query().Get("user_code")
	if raw == "" {
		p.renderPage(w, http.StatusOK, "device_entry", entry)
		return
	}
	p.mu.Lock()
	g, ok := p.pendingGrant(raw)
	var page deviceConfirmPage
	if ok {
		page = deviceConfirmPage{
			Issuer:   p.issuer,
			Action:   p.path + "/device",
			User:     p.user,
			ClientID: g.clientID,
			Scopes:   g.scopes,
			UserCode: g.userCode,
			CSRF:     g.csrf,
		}
	}
	p.mu.Unlock()
	if !ok {
		entry.UserCode = raw
		entry.Error = unknownCodeText
		p.renderPage(w, http.StatusNotFound, "device_entry", entry)
		return
	}
	p.renderPage(w, http.StatusOK, "device_confirm", page)
}

// serveDeviceSubmit records the user's approval or denial.
func (p *Provider) serveDeviceSubmit(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	f := r.PostForm
	action, csrf := f.Get("action"), f.Get("csrf_token")
	if action != "approve" && action != "deny" {
		p.renderMessage(w, http.StatusBadRequest, "Bad request", "The form was not submitted from the device page.")
		return
	}
	now := p.now()
	p.mu.Lock()
	g, found := p.pendingGrant(f.Get("user_code"))
	csrfOK := found && csrf != "" && subtle.ConstantTimeCompare([]byte(csrf), []byte(g.csrf)) == 1
	switch {
	case !csrfOK:
	case action == "approve":
		g.status, g.authTime = deviceApproved, now
	default:
		g.status = deviceDenied
	}
	var clientID string
	if found {
		clientID = g.clientID
	}
	p.mu.Unlock()

	switch {
	case !found:
		p.renderMessage(w, http.StatusBadRequest, "Code not valid", unknownCodeText)
	case !csrfOK:
		p.logger.Warn("devidp: device form refused", "reason", "csrf token mismatch")
		p.renderMessage(w, http.StatusForbidden, "Forbidden", "The form's security token did not match. Open the link from your terminal again.")
	case action == "approve":
		p.logger.Info("devidp: device login approved", "client_id", clientID, "sub", p.user.Subject)
		p.renderMessage(w, http.StatusOK, "Device approved",
			"You are signed in as "+p.user.Subject+". You can close this window and return to your terminal.")
	default:
		p.logger.Info("devidp: device login denied", "client_id", clientID)
		p.renderMessage(w, http.StatusOK, "Request denied", "The device was not signed in. You can close this window.")
	}
}

// unknownCodeText is shown for a user code that matches no pending request.
const unknownCodeText = "That code is not valid, has expired or was already used. Check the code shown in your terminal."

// pendingGrant finds the pending, unexpired grant of a user code as a person
// typed it. p.mu must be held.
func (p *Provider) pendingGrant(raw string) (*deviceGrant, bool) {
	uc, ok := normalizeUserCode(raw)
	if !ok {
		return nil, false
	}
	g := p.grantByUserKey(digest(uc))
	if g == nil || g.status != devicePending || p.now().After(g.expires) {
		return nil, false
	}
	return g, true
}

// grantByUserKey scans the grants, comparing user code digests in constant
// time. p.mu must be held.
func (p *Provider) grantByUserKey(key [32]byte) *deviceGrant {
	var found *deviceGrant
	for _, g := range p.devices.m {
		if subtle.ConstantTimeCompare(g.userKey[:], key[:]) == 1 {
			found = g
		}
	}
	return found
}

// newUserCode returns 8 characters drawn uniformly from userCodeAlphabet.
func newUserCode() string {
	code := make([]byte, 0, 8)
	buf := make([]byte, 16)
	for len(code) < cap(code) {
		_, _ = rand.Read(buf) // never fails (crypto/rand, Go 1.24+)
		for _, b := range buf {
			// 240 is the largest multiple of 20 below 256: no modulo bias.
			if b < 240 && len(code) < cap(code) {
				code = append(code, userCodeAlphabet[b%20])
			}
		}
	}
	return string(code)
}

// normalizeUserCode accepts a user code in any case, with or without
// dashes and spaces (RFC 8628 §6.1), and returns its 8 characters.
func normalizeUserCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != 8 {
		return "", false
	}
	return b.String(), true
}
