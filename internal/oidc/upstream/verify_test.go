package upstream

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestVerify_Valid(t *testing.T) {
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA}
	for _, tls := range []bool{true, false} {
		for _, alg := range algs {
			name := string(alg) + "/http"
			if tls {
				name = string(alg) + "/https"
			}
			t.Run(name, func(t *testing.T) {
				key := newKey(t, alg, "k-"+string(alg))
				other := newKey(t, jose.ES256, "other")
				ti := newTestIssuer(t, tls, other, key)
				clock := newFakeClock()
				v := verifierFor(t, ti, clock)

				claims := claimsFor(ti.issuer, clock.Now())
				claims["aud"] = []string{"someone-else", testAudience}
				claims["nested"] = map[string]any{"n": 1}
				tok, err := v.Verify(t.Context(), key.sign(t, claims, nil), expect(ti.issuer))
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				if tok.Issuer != ti.issuer || tok.Subject != claims["sub"] {
					t.Errorf("Verify() iss, sub = %q, %q; want %q, %q", tok.Issuer, tok.Subject, ti.issuer, claims["sub"])
				}
				if len(tok.Audience) != 2 || tok.Audience[1] != testAudience {
					t.Errorf("Verify() aud = %q", tok.Audience)
				}
				if !tok.Expiry.Equal(clock.Now().Add(10*time.Minute)) || !tok.IssuedAt.Equal(clock.Now()) || !tok.NotBefore.Equal(clock.Now()) {
					t.Errorf("Verify() exp, iat, nbf = %v, %v, %v", tok.Expiry, tok.IssuedAt, tok.NotBefore)
				}
				if n, ok := tok.Claims["repository_id"].(json.Number); !ok || n.String() != "123456789" {
					t.Errorf("Verify() repository_id = %#v, want json.Number 123456789", tok.Claims["repository_id"])
				}
				if tok.KeyID != key.pub.KeyID || tok.Algorithm != string(alg) {
					t.Errorf("Verify() kid, alg = %q, %q", tok.KeyID, tok.Algorithm)
				}
				if got := ti.discovery.Load(); got != 1 {
					t.Errorf("discovery fetches = %d, want 1", got)
				}
				// A second token is verified from the cache.
				if _, err := v.Verify(t.Context(), key.sign(t, claims, nil), expect(ti.issuer)); err != nil {
					t.Fatalf("second Verify() = %v", err)
				}
				if got := ti.requests.Load(); got != 2 {
					t.Errorf("requests = %d, want 2 (one discovery, one JWKS)", got)
				}
			})
		}
	}
}

func TestVerify_IssuerNotAllowed(t *testing.T) {
	key := newKey(t, jose.RS256, "k1")
	ti := newTestIssuer(t, true, key)
	clock := newFakeClock()
	provider, err := StaticIssuers(Issuer{URL: ti.issuer}, Issuer{URL: "https://other.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	v := New(WithIssuers(provider), WithClock(clock.Now), WithTransport(ti.Client().Transport))

	tests := []struct {
		name string
		iss  string
		want Expectation
	}{
		{"not expected", ti.issuer, expect("https://other.example.test")},
		{"no issuers expected", ti.issuer, expect()},
		{"expected but not configured", ti.issuer + "/evil", expect(ti.issuer + "/evil")},
		{"trailing slash", ti.issuer + "/", expect(ti.issuer)},
		{"case", strings.ToUpper(ti.issuer), expect(ti.issuer)},
		{"attacker host", "https://127.0.0.1:1", expect(ti.issuer)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := key.sign(t, claimsFor(tt.iss, clock.Now()), nil)
			_, err := v.Verify(t.Context(), raw, tt.want)
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, ErrIssuerNotAllowed) {
				t.Errorf("Verify() = %v, want ErrInvalidToken and ErrIssuerNotAllowed", err)
			}
			if Retryable(err) {
				t.Errorf("Retryable(%v) = true, want false", err)
			}
		})
	}
	if got := ti.requests.Load(); got != 0 {
		t.Errorf("requests to the issuer = %d, want 0", got)
	}

	// Without an issuer provider nothing is known.
	_, err = New(WithTransport(failingTransport{t})).Verify(t.Context(), key.sign(t, claimsFor(ti.issuer, time.Now()), nil), expect(ti.issuer))
	if !errors.Is(err, ErrIssuerNotAllowed) {
		t.Errorf("Verify() without issuers = %v, want ErrIssuerNotAllowed", err)
	}
}

func TestVerify_StaticKeysNoNetwork(t *testing.T) {
	key := newKey(t, jose.ES256, "ci-key")
	const iss = "https://ci.example.test/oidc"
	clock := newFakeClock()
	provider, err := StaticIssuers(Issuer{URL: iss, JWKS: jwksJSON(t, key.pub)})
	if err != nil {
		t.Fatal(err)
	}
	v := New(WithIssuers(provider), WithClock(clock.Now), WithTransport(failingTransport{t}))
	if _, err := v.Verify(t.Context(), key.sign(t, claimsFor(iss, clock.Now()), nil), expect(iss)); err != nil {
		t.Fatalf("Verify() = %v, want nil", err)
	}
	// An unknown kid fails without any fetch.
	stranger := newKey(t, jose.ES256, "stranger")
	if _, err := v.Verify(t.Context(), stranger.sign(t, claimsFor(iss, clock.Now()), nil), expect(iss)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(unknown kid) = %v, want ErrInvalidToken", err)
	}

	// Changed configuration takes effect.
	rotated := newKey(t, jose.EdDSA, "ci-key-2")
	var jwks = jwksJSON(t, rotated.pub)
	v2 := New(WithClock(clock.Now), WithTransport(failingTransport{t}), WithIssuers(IssuerProviderFunc(
		func(_ context.Context, got string) (Issuer, bool, error) {
			return Issuer{URL: iss, JWKS: jwks}, got == iss, nil
		})))
	if _, err := v2.Verify(t.Context(), rotated.sign(t, claimsFor(iss, clock.Now()), nil), expect(iss)); err != nil {
		t.Fatalf("Verify(rotated) = %v", err)
	}
	jwks = jwksJSON(t, key.pub)
	if _, err := v2.Verify(t.Context(), rotated.sign(t, claimsFor(iss, clock.Now()), nil), expect(iss)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(removed key) = %v, want ErrInvalidToken", err)
	}
	if _, err := v2.Verify(t.Context(), key.sign(t, claimsFor(iss, clock.Now()), nil), expect(iss)); err != nil {
		t.Errorf("Verify(new config) = %v", err)
	}
}

// selfSignedCert returns a DER certificate for key.
func selfSignedCert(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "attacker"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerify_HeaderAndAlgorithmRejected(t *testing.T) {
	key := newKey(t, jose.RS256, "k1")
	attacker := newKey(t, jose.RS256, "k1") // same kid, different key
	ti := newTestIssuer(t, false, key)
	clock := newFakeClock()
	claims := claimsFor(ti.issuer, clock.Now())

	pubDER, err := x509.MarshalPKIXPublicKey(key.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hmacWith := func(secret []byte, alg jose.SignatureAlgorithm) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: secret}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(claims)
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := jws.CompactSerialize()
		return raw
	}
	valid := key.sign(t, claims, nil)
	parts := strings.Split(valid, ".")
	cert := selfSignedCert(t, attacker.priv.(*rsa.PrivateKey))

	tests := []struct {
		name string
		raw  string
		want string // in the error
	}{
		{"alg none", rawToken(t, map[string]any{"alg": "none", "kid": "k1"}, claims, nil), `algorithm "none"`},
		{"alg none, empty signature", strings.Join(parts[:2], ".") + ".", "signature does not verify"},
		{"alg None", rawToken(t, map[string]any{"alg": "None", "kid": "k1"}, claims, nil), `algorithm "None"`},
		{"no alg", rawToken(t, map[string]any{"kid": "k1"}, claims, []byte("x")), "header alg"},
		{"HS256 keyed with the RSA public key PEM", hmacWith(pubPEM, jose.HS256), `algorithm "HS256"`},
		{"HS256 keyed with the RSA public key DER", hmacWith(pubDER, jose.HS256), `algorithm "HS256"`},
		{"HS512", hmacWith(pubPEM, jose.HS512), `algorithm "HS512"`},
		{"ES512 not allowed", rawToken(t, map[string]any{"alg": "ES512", "kid": "k1"}, claims, []byte("sig")), `algorithm "ES512"`},
		{"embedded jwk", attackerWithJWK(t, attacker, claims), `header "jwk"`},
		{"jku", attacker.sign(t, claims, map[jose.HeaderKey]any{"jku": ti.URL + "/keys"}), `header "jku"`},
		{"x5u", attacker.sign(t, claims, map[jose.HeaderKey]any{"x5u": ti.URL + "/cert"}), `header "x5u"`},
		{"x5c", attacker.sign(t, claims, map[jose.HeaderKey]any{"x5c": []string{base64.StdEncoding.EncodeToString(cert)}}), `header "x5c"`},
		{"jwk on a validly signed token", key.sign(t, claims, map[jose.HeaderKey]any{"jwk": key.pub}), `header "jwk"`},
		{"crit", key.sign(t, claims, map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}), `header "crit"`},
		{"ES256 naming the RSA key's kid", newKey(t, jose.ES256, "k1").sign(t, claims, nil), "no key"},
		{"signed by another key with the same kid", attacker.sign(t, claims, nil), "signature does not verify"},
		{"RS256 header, PS256 signature", psAsRS(t, key, claims), "signature does not verify"},
		{"payload swapped", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+ti.issuer+`","sub":"admin","aud":"`+testAudience+`","exp":9999999999}`)) + "." + parts[2], "signature does not verify"},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "signature does not verify"},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, "not a compact JWS"},
		{"two parts", parts[0] + "." + parts[1], "not a compact JWS"},
		{"five parts (JWE)", valid + ".x.y", "not a compact JWS"},
		{"garbage header", "!!!." + parts[1] + "." + parts[2], "header"},
		{"header not an object", base64.RawURLEncoding.EncodeToString([]byte(`"RS256"`)) + "." + parts[1] + "." + parts[2], "header"},
		{"too large", key.sign(t, withClaim(claims, "pad", strings.Repeat("a", MaxTokenSize)), nil), "larger than"},
		{"empty", "", "not a compact JWS"},
	}
	v := verifierFor(t, ti, clock)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tt.raw, expect(ti.issuer))
			if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify() = %v, want ErrInvalidToken with %q", err, tt.want)
			}
		})
	}
	// The cache still holds the real key: a valid token passes.
	if _, err := v.Verify(t.Context(), valid, expect(ti.issuer)); err != nil {
		t.Errorf("Verify(valid) = %v, want nil", err)
	}
}

func attackerWithJWK(t *testing.T, k testKey, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: true}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	if !strings.Contains(decodeHeader(t, raw), `"jwk"`) {
		t.Fatalf("token header lacks jwk: %s", decodeHeader(t, raw))
	}
	return raw
}

// psAsRS signs with PS256 and then claims RS256 in the header.
func psAsRS(t *testing.T, k testKey, claims map[string]any) string {
	t.Helper()
	ps := testKey{alg: jose.PS256, priv: k.priv, pub: k.pub}
	raw := ps.sign(t, claims, nil)
	parts := strings.Split(raw, ".")
	return rawToken(t, map[string]any{"alg": "RS256", "kid": k.pub.KeyID}, claims, mustDecode(t, parts[2]))
}

func decodeHeader(t *testing.T, raw string) string {
	t.Helper()
	return string(mustDecode(t, strings.Split(raw, ".")[0]))
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func withClaim(claims map[string]any, name string, v any) map[string]any {
	out := make(map[string]any, len(claims)+1)
	for k, x := range claims {
		out[k] = x
	}
	if v == nil {
		delete(out, name)
	} else {
		out[name] = v
	}
	return out
}

func TestVerify_Claims(t *testing.T) {
	key := newKey(t, jose.ES256, "k1")
	ti := newTestIssuer(t, false, key)
	clock := newFakeClock()
	now := clock.Now()
	base := claimsFor(ti.issuer, now)

	tests := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"valid", base, true},
		{"wrong aud", withClaim(base, "aud", "registry.example.test.evil"), false},
		{"aud prefix", withClaim(base, "aud", "registry.example"), false},
		{"aud list without ours", withClaim(base, "aud", []string{"a", "b"}), false},
		{"aud list with a non-string", withClaim(base, "aud", []any{testAudience, 7}), false},
		{"no aud", withClaim(base, "aud", nil), false},
		{"expired beyond skew", withClaim(base, "exp", now.Add(-61*time.Second).Unix()), false},
		{"expired within skew", withClaim(base, "exp", now.Add(-59*time.Second).Unix()), true},
		{"no exp", withClaim(base, "exp", nil), false},
		{"exp a string", withClaim(base, "exp", "9999999999"), false},
		{"exp fractional", withClaim(base, "exp", json.Number("1800000600.5")), true},
		{"nbf future beyond skew", withClaim(base, "nbf", now.Add(61*time.Second).Unix()), false},
		{"nbf future within skew", withClaim(base, "nbf", now.Add(59*time.Second).Unix()), true},
		{"iat future beyond skew", withClaim(base, "iat", now.Add(2*time.Minute).Unix()), false},
		{"iat future within skew", withClaim(base, "iat", now.Add(30*time.Second).Unix()), true},
		{"no iat, no nbf", withClaim(withClaim(base, "iat", nil), "nbf", nil), true},
		{"no sub", withClaim(base, "sub", nil), false},
		{"empty sub", withClaim(base, "sub", ""), false},
		{"sub not a string", withClaim(base, "sub", 42), false},
		{"no iss", withClaim(base, "iss", nil), false},
		{"iss not a string", withClaim(base, "iss", []string{ti.issuer}), false},
	}
	v := verifierFor(t, ti, clock)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), key.sign(t, tt.claims, nil), expect(ti.issuer))
			if tt.ok && err != nil {
				t.Errorf("Verify() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify() = %v, want ErrInvalidToken", err)
			}
		})
	}

	if _, err := v.Verify(t.Context(), key.sign(t, base, nil), Expectation{Issuers: []string{ti.issuer}}); err == nil {
		t.Errorf("Verify() with no expected audience = nil, want an error")
	}
}
