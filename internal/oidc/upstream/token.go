package upstream

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// allowedAlgorithms is the signature algorithm allow-list: asymmetric only,
// so neither "none" nor an HMAC keyed with a public key can pass.
func allowedAlgorithms() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512,
		jose.ES256, jose.ES384,
		jose.PS256,
		jose.EdDSA,
	}
}

func isAllowedAlgorithm(alg jose.SignatureAlgorithm) bool {
	for _, a := range allowedAlgorithms() {
		if a == alg {
			return true
		}
	}
	return false
}

// forbiddenHeaders would let a token carry or point at its own key or
// certificate, or demand processing we do not do.
func forbiddenHeaders() []string {
	return []string{"jwk", "jku", "x5c", "x5u", "crit", "b64"}
}

// header is what Verify needs from the unverified protected header.
type header struct {
	alg jose.SignatureAlgorithm
	kid string
}

// inspect checks the shape and header of a compact JWS and returns the header
// and the unverified iss claim. Nothing it returns is trusted yet.
func inspect(raw string) (header, string, error) {
	var h header
	if len(raw) > MaxTokenSize {
		return h, "", fmt.Errorf("%w: larger than %d bytes", ErrInvalidToken, MaxTokenSize)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, "", fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return h, "", fmt.Errorf("%w: header: %w", ErrInvalidToken, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(hb, &fields); err != nil {
		return h, "", fmt.Errorf("%w: header: %w", ErrInvalidToken, err)
	}
	for _, name := range forbiddenHeaders() {
		if _, ok := fields[name]; ok {
			return h, "", fmt.Errorf("%w: header %q is not accepted", ErrInvalidToken, name)
		}
	}
	var alg string
	if err := json.Unmarshal(fields["alg"], &alg); err != nil {
		return h, "", fmt.Errorf("%w: header alg: %w", ErrInvalidToken, err)
	}
	h.alg = jose.SignatureAlgorithm(alg)
	if !isAllowedAlgorithm(h.alg) {
		return h, "", fmt.Errorf("%w: algorithm %q is not accepted", ErrInvalidToken, alg)
	}
	if k, ok := fields["kid"]; ok {
		if err := json.Unmarshal(k, &h.kid); err != nil {
			return h, "", fmt.Errorf("%w: header kid: %w", ErrInvalidToken, err)
		}
	}

	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return h, "", fmt.Errorf("%w: payload: %w", ErrInvalidToken, err)
	}
	var claims struct {
		Iss *string `json:"iss"`
	}
	if err := json.Unmarshal(pb, &claims); err != nil {
		return h, "", fmt.Errorf("%w: payload: %w", ErrInvalidToken, err)
	}
	if claims.Iss == nil || *claims.Iss == "" {
		return h, "", fmt.Errorf("%w: no iss", ErrInvalidToken)
	}
	return h, *claims.Iss, nil
}

// keyFits reports whether k may verify a signature made with alg.
func keyFits(k jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256:
			return true
		}
	case *ecdsa.PublicKey:
		return (alg == jose.ES256 && key.Curve == elliptic.P256()) ||
			(alg == jose.ES384 && key.Curve == elliptic.P384())
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// checkClaims decodes a verified payload and checks iss, sub, aud, exp, nbf
// and iat.
func checkClaims(payload []byte, iss, aud string, now time.Time) (*Token, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrInvalidToken)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after payload", ErrInvalidToken)
	}
	tok := &Token{Claims: claims}

	if s, _ := claims["iss"].(string); s != iss {
		return nil, fmt.Errorf("%w: iss %q, want %q", ErrInvalidToken, s, iss)
	}
	tok.Issuer = iss
	sub, ok := claims["sub"].(string)
	if !ok || sub == "" {
		return nil, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	tok.Subject = sub

	switch a := claims["aud"].(type) {
	case string:
		tok.Audience = []string{a}
	case []any:
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: aud holds a non-string", ErrInvalidToken)
			}
			tok.Audience = append(tok.Audience, s)
		}
	default:
		return nil, fmt.Errorf("%w: no aud", ErrInvalidToken)
	}
	found := false
	for _, a := range tok.Audience {
		found = found || a == aud
	}
	if !found {
		return nil, fmt.Errorf("%w: aud %q does not contain %q", ErrInvalidToken, tok.Audience, aud)
	}

	var err error
	if tok.Expiry, err = numericDate(claims, "exp", true); err != nil {
		return nil, err
	}
	if now.After(tok.Expiry.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: expired at %s", ErrInvalidToken, tok.Expiry.UTC().Format(time.RFC3339))
	}
	if tok.NotBefore, err = numericDate(claims, "nbf", false); err != nil {
		return nil, err
	}
	if !tok.NotBefore.IsZero() && tok.NotBefore.After(now.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: not valid before %s", ErrInvalidToken, tok.NotBefore.UTC().Format(time.RFC3339))
	}
	if tok.IssuedAt, err = numericDate(claims, "iat", false); err != nil {
		return nil, err
	}
	if !tok.IssuedAt.IsZero() && tok.IssuedAt.After(now.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: issued in the future, at %s", ErrInvalidToken, tok.IssuedAt.UTC().Format(time.RFC3339))
	}
	return tok, nil
}

// numericDate reads an RFC 7519 NumericDate claim.
func numericDate(claims map[string]any, name string, required bool) (time.Time, error) {
	v, ok := claims[name]
	if !ok {
		if required {
			return time.Time{}, fmt.Errorf("%w: no %s", ErrInvalidToken, name)
		}
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is not a number", ErrInvalidToken, name)
	}
	if i, err := n.Int64(); err == nil {
		if i <= 0 {
			return time.Time{}, fmt.Errorf("%w: %s is not positive", ErrInvalidToken, name)
		}
		return time.Unix(i, 0), nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > math.MaxInt64/2 {
		return time.Time{}, fmt.Errorf("%w: %s is not a valid date", ErrInvalidToken, name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
