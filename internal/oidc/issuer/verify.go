package issuer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verify checks a token this issuer signed and returns its claims. raw is
// the JWS Compact Serialization (RFC 7515 section 7.1), at most
// MaxTokenSize bytes. The token must:
//
//   - have exactly the header parameters alg, kid and optionally typ
//     ("JWT"); "alg" must be ES256, so "none", HMAC (whose key an attacker
//     would take from the JWKS) and RSA are refused, and so are keys or key
//     locations named by the sender ("jwk", "jku", "x5c", "x5u");
//   - name with "kid" one of the issuer's published keys, and verify with it;
//   - carry "iss" equal to the issuer URL and an "aud" containing audience,
//     both compared exactly (RFC 7519 sections 4.1.1 and 4.1.3);
//   - carry "exp" and "iat", and be within them and "nbf" allowing
//     MaxClockSkew (RFC 7519 sections 4.1.4 to 4.1.6).
//
// Every error matches ErrInvalidToken and one reason (see errors.go).
//
// Tokens that verified are cached (see WithVerifyCacheSize) until their
// exp, so a repeated token costs a hash and a map lookup. The returned
// Claims is the caller's, but its slices and Actor are shared with the
// cache and must not be modified.
func (i *Issuer) Verify(ctx context.Context, raw, audience string) (*Claims, error) {
	if len(raw) > MaxTokenSize {
		return nil, reject(ErrTooLarge, "%d bytes", len(raw))
	}
	if audience == "" {
		return nil, reject(ErrAudience, "no audience to check against")
	}
	now := i.now()
	if e, ok := i.cache.get(raw, now); ok && i.keys.Load().byID[e.kid] != nil {
		if !e.claims.HasAudience(audience) {
			return nil, reject(ErrAudience, "aud %q", clip(strings.Join(e.claims.Audience, " ")))
		}
		c := *e.claims
		return &c, nil
	}
	c, kid, err := i.verify(ctx, raw, audience, now)
	if err != nil {
		return nil, err
	}
	i.cache.put(raw, cacheEntry{claims: c, kid: kid, exp: c.Expiry}, now)
	cp := *c
	return &cp, nil
}

// verify checks raw in full and returns its claims and the id of the key
// that verified it.
func (i *Issuer) verify(ctx context.Context, raw, audience string, now time.Time) (*Claims, string, error) {
	if !isCompact(raw) {
		return nil, "", reject(ErrMalformed, "not a JWS compact serialization")
	}
	encoded, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.Strict().DecodeString(encoded)
	if err != nil {
		return nil, "", reject(ErrMalformed, "header is not base64url")
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b, &header); err != nil || header == nil {
		return nil, "", reject(ErrMalformed, "header is not a JSON object")
	}
	var alg, kid, typ string
	if json.Unmarshal(header["alg"], &alg) != nil || alg != string(algorithm) {
		return nil, "", reject(ErrAlgorithm, "alg %q", clip(string(header["alg"])))
	}
	// These are named first: each lets the sender choose the key, or how
	// the token is processed (RFC 7515 sections 4.1.2 to 4.1.6, 4.1.11).
	for _, name := range [...]string{"jwk", "jku", "x5c", "x5u", "crit"} {
		if _, ok := header[name]; ok {
			return nil, "", reject(ErrHeader, "%q", name)
		}
	}
	for name := range header {
		switch name {
		case "alg", "kid", "typ": // all this issuer writes
		default:
			return nil, "", reject(ErrHeader, "%q", clip(name))
		}
	}
	if t, ok := header["typ"]; ok && (json.Unmarshal(t, &typ) != nil || !strings.EqualFold(typ, "JWT")) {
		return nil, "", reject(ErrHeader, "typ %q", clip(string(t)))
	}
	if json.Unmarshal(header["kid"], &kid) != nil || kid == "" {
		return nil, "", reject(ErrUnknownKey, "no kid")
	}

	k := i.keys.Load().byID[kid]
	if k == nil {
		if k = i.reloadForKid(ctx, kid); k == nil {
			return nil, "", reject(ErrUnknownKey, "kid %q", clip(kid))
		}
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{algorithm})
	if err != nil {
		return nil, "", reject(ErrMalformed, "parse: %v", err)
	}
	// Already established above; checked again on go-jose's reading of
	// the header, in case the two parsers ever disagree.
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID != kid || tok.Headers[0].JSONWebKey != nil {
		return nil, "", reject(ErrHeader, "inconsistent header")
	}
	var w wireClaims
	if err := tok.Claims(&k.priv.PublicKey, &w); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, "", reject(ErrSignature, "kid %q", kid)
		}
		return nil, "", reject(ErrMalformed, "claims: %v", err)
	}
	c := w.claims()
	if err := i.validate(c, audience, now); err != nil {
		return nil, "", err
	}
	return c, kid, nil
}

// validate checks the registered claims of a token whose signature
// verified.
func (i *Issuer) validate(c *Claims, audience string, now time.Time) error {
	switch {
	case c.Issuer != i.url:
		return reject(ErrIssuer, "iss %q", clip(c.Issuer))
	case !c.HasAudience(audience):
		return reject(ErrAudience, "aud %q", clip(strings.Join(c.Audience, " ")))
	case c.Expiry.IsZero():
		return reject(ErrMalformed, "no exp")
	case c.IssuedAt.IsZero():
		return reject(ErrMalformed, "no iat")
	case now.After(c.Expiry.Add(MaxClockSkew)):
		return reject(ErrExpired, "exp %s", c.Expiry.Format(time.RFC3339))
	case !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(MaxClockSkew)):
		return reject(ErrNotYetValid, "nbf %s", c.NotBefore.Format(time.RFC3339))
	case c.IssuedAt.After(now.Add(MaxClockSkew)):
		return reject(ErrIssuedInFuture, "iat %s", c.IssuedAt.Format(time.RFC3339))
	}
	return nil
}

// isCompact reports whether s is three base64url segments joined by dots,
// the shape of a JWS Compact Serialization: no whitespace, no padding, no
// JSON serialization, no JWE (five segments).
func isCompact(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2
}
