package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

var (
	// ErrNoProvider means the registry names no identity provider to log in with.
	ErrNoProvider = errors.New("the registry has no login provider configured")
	// ErrNoBrowser is passed to Prompter.ShowAuthURL when no browser opener is set.
	ErrNoBrowser = errors.New("no browser opener configured")
	// ErrStateMismatch means the redirect to the loopback listener did not
	// carry the login request's state (a forged or stale redirect).
	ErrStateMismatch = errors.New("login redirect does not match the login request (state mismatch)")
	// ErrInvalidIDToken means the provider's ID token failed verification.
	ErrInvalidIDToken = errors.New("invalid id token")
	// ErrTimeout means the user did not finish logging in in time.
	ErrTimeout = errors.New("timed out waiting for the login to complete")
	// ErrDeviceUnsupported means the provider has no device authorization endpoint.
	ErrDeviceUnsupported = errors.New("the identity provider does not support device login")

	// The sentinels below are what *OAuthError unwraps to, by error code.

	// ErrAccessDenied: the user or server refused (access_denied).
	ErrAccessDenied = errors.New("access denied")
	// ErrExpiredToken: the device code expired before it was approved (expired_token).
	ErrExpiredToken = errors.New("the login request expired")
	// ErrInvalidGrant: a code, device code or ID token was refused (invalid_grant).
	ErrInvalidGrant = errors.New("invalid grant")
	// ErrIdentityRequired: the ID token matches several identities and the
	// caller must choose one (the server's description lists them).
	ErrIdentityRequired = errors.New("the token matches several identities")
	// ErrTemporarilyUnavailable: retry later (temporarily_unavailable, or 503).
	ErrTemporarilyUnavailable = errors.New("temporarily unavailable")
)

// OAuthError is an OAuth 2.0 error response (RFC 6749 §4.1.2.1, §5.2,
// RFC 8628 §3.5) from the identity provider or the registry. Description
// is the server's text, meant for the user. errors.Is matches it against
// the sentinel for its code (ErrAccessDenied, ErrInvalidGrant, ...).
type OAuthError struct {
	StatusCode  int    // 0 for errors delivered by redirect
	Code        string // the "error" parameter
	Description string // the "error_description" parameter, may be empty
}

func (e *OAuthError) Error() string {
	if e.Description != "" {
		return e.Code + ": " + e.Description
	}
	return e.Code
}

// Unwrap returns the sentinel for the error code, or nil.
func (e *OAuthError) Unwrap() error {
	switch {
	case e.Code == "access_denied":
		return ErrAccessDenied
	case e.Code == "expired_token":
		return ErrExpiredToken
	case e.Code == "invalid_grant":
		return ErrInvalidGrant
	case e.Code == "temporarily_unavailable" || e.StatusCode == http.StatusServiceUnavailable:
		return ErrTemporarilyUnavailable
	case e.Code == "invalid_request" && strings.Contains(e.Description, "several identities"):
		// The registry has no dedicated code for this; its description
		// names the candidates and how to choose.
		return ErrIdentityRequired
	}
	return nil
}

// HTTPError is an HTTP failure with no OAuth error body.
type HTTPError struct {
	StatusCode int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("unexpected HTTP status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// parseOAuthError turns an error response body into *OAuthError, or an
// *HTTPError when it carries none.
func parseOAuthError(status int, body []byte) error {
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		return &OAuthError{StatusCode: status, Code: e.Code, Description: e.Description}
	}
	return &HTTPError{StatusCode: status}
}
