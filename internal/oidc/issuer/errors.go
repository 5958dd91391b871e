package issuer

import (
	"errors"
	"fmt"
)

// Verification errors. Every error Verify returns matches ErrInvalidToken
// and exactly one of the reasons below (errors.Is), so that a caller can
// answer a client with a generic message and log the cause. The error
// text names the reason and a short, quoted detail (a kid, an iss); it
// never contains the token.
var (
	// ErrInvalidToken matches every token Verify rejects.
	ErrInvalidToken = errors.New("invalid token")

	// ErrTooLarge: the raw token is longer than MaxTokenSize.
	ErrTooLarge = errors.New("token too large")
	// ErrMalformed: not a JWS Compact Serialization (RFC 7515 section
	// 7.1) of a JSON claims set, or a required claim (exp, iat) missing.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: "alg" is not ES256 — "none", HMAC, RSA, other curves.
	ErrAlgorithm = errors.New("disallowed signing algorithm")
	// ErrHeader: a header parameter this issuer never sets, such as "jwk",
	// "jku", "x5c", "x5u" (a key or key location chosen by the sender) or
	// "crit", or a "typ" other than JWT.
	ErrHeader = errors.New("disallowed token header")
	// ErrUnknownKey: "kid" is missing or names none of the issuer's
	// published keys.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrSignature: the signature does not verify with the named key.
	ErrSignature = errors.New("bad signature")
	// ErrIssuer: "iss" is not exactly this issuer.
	ErrIssuer = errors.New("wrong issuer")
	// ErrAudience: "aud" does not contain the expected audience exactly.
	ErrAudience = errors.New("wrong audience")
	// ErrExpired: "exp" passed more than MaxClockSkew ago.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: "nbf" is more than MaxClockSkew ahead.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrIssuedInFuture: "iat" is more than MaxClockSkew ahead.
	ErrIssuedInFuture = errors.New("token issued in the future")
)

// tokenError is a rejection: ErrInvalidToken, a reason, and a detail for
// the log.
type tokenError struct {
	reason error
	detail string
}

func (e *tokenError) Error() string {
	if e.detail == "" {
		return fmt.Sprintf("%v: %v", ErrInvalidToken, e.reason)
	}
	return fmt.Sprintf("%v: %v: %s", ErrInvalidToken, e.reason, e.detail)
}

func (e *tokenError) Unwrap() []error { return []error{ErrInvalidToken, e.reason} }

// reject returns a rejection for reason with a formatted detail.
func reject(reason error, format string, args ...any) error {
	return &tokenError{reason: reason, detail: fmt.Sprintf(format, args...)}
}

// maxDetail bounds how much of a sender-chosen string reaches the log.
const maxDetail = 64

// clip shortens a sender-chosen string for an error detail.
func clip(s string) string {
	if len(s) > maxDetail {
		return s[:maxDetail] + "..."
	}
	return s
}
