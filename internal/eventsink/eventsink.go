// Package eventsink receives a chainctl registry's event deliveries: it
// checks that a delivery was signed by the registry and meant for this
// sink, and parses its CloudEvent. `chainctl events listen` is built on
// it, and so can be any Go receiver or end-to-end test.
//
// A delivery is an HTTP POST of one CloudEvent 1.0 in binary content mode
// (ce-* headers, the event data as the JSON body) with
//
//	Authorization: Bearer <JWT>
//
// signed ES256 by the registry's own OIDC issuer. The JWT's claims bind it
// to this sink and this body: "iss" is the registry's issuer (the "issuer"
// of <registry>/.well-known/openid-configuration), "aud" the sink URL as
// subscribed, "sub" subscription:<id>, "digest" the sha256 of the body, and
// "exp" a few minutes after "iat". The keys are the issuer's JWKS (the
// discovery document's jwks_uri).
//
// The ce-* headers are not signed; Verify checks the ones the signed body
// determines (ce-source is the issuer, ce-subject the body's repository and
// tag or digest, ce-type agrees with the body's HTTP method).
package eventsink

import (
	"errors"
	"net/http"
	"time"
)

// Limits.
const (
	// MaxBody is the largest delivery body read. Event data is well under
	// a KiB; the registry never sends more.
	MaxBody = 1 << 20
	// MaxTokenSize is the longest bearer token looked at.
	MaxTokenSize = 16 << 10
	// Leeway is how far exp, nbf and iat may be off this machine's clock,
	// as the registry itself allows (RFC 7519 section 4.1.4).
	Leeway = 60 * time.Second
	// SubjectPrefix starts the "sub" claim of every delivery token; the
	// subscription's id follows.
	SubjectPrefix = "subscription:"
)

// Every error of Verify wraps exactly one of these; StatusCode maps them
// to the answer a sink gives.
var (
	// ErrUnauthorized: the delivery is not proven to come from the
	// registry for this sink (no token, bad signature, wrong issuer or
	// audience, expired, body altered). Answer 401.
	ErrUnauthorized = errors.New("delivery not authenticated")
	// ErrMalformed: the delivery is authentic but not a CloudEvent this
	// package understands. Answer 400.
	ErrMalformed = errors.New("malformed event")
	// ErrUnavailable: the registry's keys could not be fetched, so nothing
	// can be verified yet. Answer 503: the registry retries.
	ErrUnavailable = errors.New("registry keys unavailable")
)

// StatusCode is the HTTP status a sink answers a delivery Verify refused
// with err: 401, 400, 503, or 500 for anything else.
func StatusCode(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// reason is a refusal: one of the sentinels and a short text that names
// no token or body. Error() is the text alone, so it can be sent back.
type reason struct {
	kind error
	text string
}

func (r *reason) Error() string { return r.text }
func (r *reason) Unwrap() error { return r.kind }

func unauthorized(text string) error { return &reason{ErrUnauthorized, text} }
func malformed(text string) error    { return &reason{ErrMalformed, text} }
