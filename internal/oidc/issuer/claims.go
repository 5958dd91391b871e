package issuer

import (
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/policy"
)

// Claims is the claims set of a token this issuer signs (RFC 7519 section
// 4). Times are whole seconds on the wire (NumericDate); a zero time is an
// absent claim.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub
	Audience  []string  // aud; one value is sent as a string
	Expiry    time.Time // exp
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti

	// Access is what an access token grants, in the shape of the Docker
	// token authentication specification ("access" claim).
	Access []policy.Access
	// Actor is who a session token was exchanged for: the upstream issuer
	// and subject (RFC 8693 section 4.1, "act").
	Actor *Actor
	// Digest is the "sha256:<hex>" digest of the body a token accompanies,
	// for signed event deliveries.
	Digest string
	// Incarnations names, for each identity the subject names, the
	// incarnation of it the token was issued to ("inc"), so that an
	// identity deleted and created again never honours the old tokens.
	Incarnations map[string]string
	// PullToken is the id of the pull token an access token was issued
	// for ("ptk"); the subject names it too. Such a token is honoured only
	// while the pull token is live.
	PullToken string
	// Event names the CloudEvent a delivery token accompanies ("ce"), so
	// that its unsigned ce-id and ce-type headers are covered too.
	Event *EventRef
}

// EventRef is the "ce" claim: the id and type of a delivered CloudEvent.
type EventRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Actor is the "act" claim (RFC 8693 section 4.1).
type Actor struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
}

// HasAudience reports whether aud is one of c.Audience, compared exactly.
func (c *Claims) HasAudience(aud string) bool {
	return aud != "" && slices.Contains(c.Audience, aud)
}

// wireClaims is the JSON form of Claims. It is (un)marshaled by go-jose's
// JSON package, which matches member names case-sensitively, unlike
// encoding/json: "ISS" is not "iss".
type wireClaims struct {
	Issuer    string            `json:"iss,omitempty"`
	Subject   string            `json:"sub,omitempty"`
	Audience  jwt.Audience      `json:"aud,omitempty"`
	Expiry    *jwt.NumericDate  `json:"exp,omitempty"`
	NotBefore *jwt.NumericDate  `json:"nbf,omitempty"`
	IssuedAt  *jwt.NumericDate  `json:"iat,omitempty"`
	ID        string            `json:"jti,omitempty"`
	Access    []policy.Access   `json:"access,omitempty"`
	Actor     *Actor            `json:"act,omitempty"`
	Digest    string            `json:"digest,omitempty"`
	Inc       map[string]string `json:"inc,omitempty"`
	PullToken string            `json:"ptk,omitempty"`
	Event     *EventRef         `json:"ce,omitempty"`
}

func (c *Claims) wire() *wireClaims {
	return &wireClaims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  c.Audience,
		Expiry:    jwt.NewNumericDate(c.Expiry),
		NotBefore: jwt.NewNumericDate(c.NotBefore),
		IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
		ID:        c.ID,
		Access:    c.Access,
		Actor:     c.Actor,
		Digest:    c.Digest,
		Inc:       c.Incarnations,
		PullToken: c.PullToken,
		Event:     c.Event,
	}
}

func (w *wireClaims) claims() *Claims {
	return &Claims{
		Issuer:       w.Issuer,
		Subject:      w.Subject,
		Audience:     w.Audience,
		Expiry:       numericTime(w.Expiry),
		NotBefore:    numericTime(w.NotBefore),
		IssuedAt:     numericTime(w.IssuedAt),
		ID:           w.ID,
		Access:       w.Access,
		Actor:        w.Actor,
		Digest:       w.Digest,
		Incarnations: w.Inc,
		PullToken:    w.PullToken,
		Event:        w.Event,
	}
}

// numericTime is the UTC time of d, or zero when the claim is absent.
func numericTime(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time().UTC()
}
