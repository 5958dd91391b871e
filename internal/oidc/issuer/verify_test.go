package issuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// validClaims are claims Verify accepts at now.
func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer,
		"sub": "alice",
		"aud": testAudience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": "1",
	}
}

// with returns a copy of m with the given members set; a nil value
// removes the member.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for n := 0; n < len(kv); n += 2 {
		if kv[n+1] == nil {
			delete(out, kv[n].(string))
		} else {
			out[kv[n].(string)] = kv[n+1]
		}
	}
	return out
}

func TestVerify(t *testing.T) {
	st := &memKeys{}
	clk := newClock()
	i := newTestIssuer(t, st, clk, WithVerifyCacheSize(0))
	now := clk.Now()
	kid := activeKid(t, i)
	ours := es(st.private(t, kid))
	pub := &st.private(t, kid).PublicKey

	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerP384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	attackerRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	attackerJWK, _ := json.Marshal(jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: kid})
	var jwkMember map[string]any
	json.Unmarshal(attackerJWK, &jwkMember)
	certDER := selfSigned(t, attacker)

	// The public key in the encodings an HS256 confusion attack would
	// take as the HMAC secret.
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	ecdhPub, _ := pub.ECDH()
	jwks := i.fresh(t.Context()).jwks

	hdr := map[string]any{"alg": "ES256", "kid": kid, "typ": "JWT"}
	claims := validClaims(now)
	valid := forge(t, hdr, claims, ours)
	parts := strings.Split(valid, ".")
	otherPayload := b64([]byte(`{"iss":"` + testIssuer + `","sub":"root","aud":"` + testAudience + `","iat":1,"exp":9999999999}`))

	tests := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{name: "valid", token: valid},
		{name: "issued by Sign", token: sign(t, i, "alice", time.Minute)},
		{name: "no typ", token: forge(t, with(hdr, "typ", nil), claims, ours)},
		{name: "typ lower case", token: forge(t, with(hdr, "typ", "jwt"), claims, ours)},
		{name: "aud list containing ours", token: forge(t, hdr, with(claims, "aud", []string{"other", testAudience}), ours)},
		{name: "no nbf", token: forge(t, hdr, with(claims, "nbf", nil), ours)},

		// Algorithms.
		{name: "alg none", token: forge(t, with(hdr, "alg", "none"), claims, nil), want: ErrAlgorithm},
		{name: "alg None", token: forge(t, with(hdr, "alg", "None"), claims, nil), want: ErrAlgorithm},
		{name: "alg none with a signature", token: forge(t, with(hdr, "alg", "none"), claims, ours), want: ErrAlgorithm},
		{name: "no alg", token: forge(t, with(hdr, "alg", nil), claims, ours), want: ErrAlgorithm},
		{name: "alg not a string", token: forge(t, with(hdr, "alg", []string{"ES256"}), claims, ours), want: ErrAlgorithm},
		{name: "alg es256", token: forge(t, with(hdr, "alg", "es256"), claims, ours), want: ErrAlgorithm},
		{name: "HS256 keyed with the public key PEM", token: forge(t, with(hdr, "alg", "HS256"), claims, hs(pemKey)), want: ErrAlgorithm},
		{name: "HS256 keyed with the public key DER", token: forge(t, with(hdr, "alg", "HS256"), claims, hs(pkix)), want: ErrAlgorithm},
		{name: "HS256 keyed with the public point", token: forge(t, with(hdr, "alg", "HS256"), claims, hs(ecdhPub.Bytes())), want: ErrAlgorithm},
		{name: "HS256 keyed with the JWKS", token: forge(t, with(hdr, "alg", "HS256"), claims, hs(jwks)), want: ErrAlgorithm},
		{name: "HS512", token: forge(t, with(hdr, "alg", "HS512"), claims, hs(pemKey)), want: ErrAlgorithm},
		{name: "RS256 from a foreign key", token: forge(t, with(hdr, "alg", "RS256"), claims, rs(attackerRSA)), want: ErrAlgorithm},
		{name: "ES384 from a foreign key", token: forge(t, with(hdr, "alg", "ES384"), claims, es(attackerP384)), want: ErrAlgorithm},

		// Keys chosen by the sender. Signed with our key, so the header is
		// all that is wrong.
		{name: "embedded jwk", token: forge(t, with(hdr, "jwk", jwkMember), claims, ours), want: ErrHeader},
		{name: "embedded jwk signed by it", token: forge(t, with(hdr, "jwk", jwkMember), claims, es(attacker)), want: ErrHeader},
		{name: "jku", token: forge(t, with(hdr, "jku", "https://evil.example/jwks.json"), claims, ours), want: ErrHeader},
		{name: "x5c", token: forge(t, with(hdr, "x5c", []string{base64.StdEncoding.EncodeToString(certDER)}), claims, ours), want: ErrHeader},
		{name: "x5u", token: forge(t, with(hdr, "x5u", "https://evil.example/cert.pem"), claims, ours), want: ErrHeader},
		{name: "crit", token: forge(t, with(hdr, "crit", []string{"exp"}, "exp", 1), claims, ours), want: ErrHeader},
		{name: "other header", token: forge(t, with(hdr, "cty", "JWT"), claims, ours), want: ErrHeader},
		{name: "typ at+jwt", token: forge(t, with(hdr, "typ", "at+jwt"), claims, ours), want: ErrHeader},
		{name: "typ not a string", token: forge(t, with(hdr, "typ", 1), claims, ours), want: ErrHeader},

		// Keys.
		{name: "unknown kid", token: forge(t, with(hdr, "kid", "unknown"), claims, es(attacker)), want: ErrUnknownKey},
		{name: "no kid", token: forge(t, with(hdr, "kid", nil), claims, ours), want: ErrUnknownKey},
		{name: "empty kid", token: forge(t, with(hdr, "kid", ""), claims, ours), want: ErrUnknownKey},
		{name: "kid not a string", token: forge(t, with(hdr, "kid", 1), claims, ours), want: ErrUnknownKey},
		{name: "our kid, foreign key", token: forge(t, hdr, claims, es(attacker)), want: ErrSignature},
		{name: "payload swapped", token: parts[0] + "." + otherPayload + "." + parts[2], want: ErrSignature},
		{name: "signature truncated", token: valid[:len(valid)-4], want: ErrSignature},
		{name: "no signature", token: parts[0] + "." + parts[1] + ".", want: ErrSignature},

		// Claims.
		{name: "wrong iss", token: forge(t, hdr, with(claims, "iss", "https://evil.example"), ours), want: ErrIssuer},
		{name: "iss with trailing slash", token: forge(t, hdr, with(claims, "iss", testIssuer+"/"), ours), want: ErrIssuer},
		{name: "iss in other case", token: forge(t, hdr, with(claims, "iss", strings.ToUpper(testIssuer)), ours), want: ErrIssuer},
		{name: "claim names in other case", token: forge(t, hdr, with(claims, "iss", nil, "ISS", testIssuer), ours), want: ErrIssuer},
		{name: "no iss", token: forge(t, hdr, with(claims, "iss", nil), ours), want: ErrIssuer},
		{name: "wrong aud", token: forge(t, hdr, with(claims, "aud", "other.example.com"), ours), want: ErrAudience},
		{name: "aud with our prefix", token: forge(t, hdr, with(claims, "aud", testAudience+".evil.example"), ours), want: ErrAudience},
		{name: "aud list without ours", token: forge(t, hdr, with(claims, "aud", []string{"a", "b"}), ours), want: ErrAudience},
		{name: "no aud", token: forge(t, hdr, with(claims, "aud", nil), ours), want: ErrAudience},
		{name: "no exp", token: forge(t, hdr, with(claims, "exp", nil), ours), want: ErrMalformed},
		{name: "exp a string", token: forge(t, hdr, with(claims, "exp", "tomorrow"), ours), want: ErrMalformed},
		{name: "exp huge", token: forge(t, hdr, with(claims, "exp", 1e300), ours), want: ErrMalformed},
		{name: "no iat", token: forge(t, hdr, with(claims, "iat", nil), ours), want: ErrMalformed},

		// Time, with MaxClockSkew of leeway.
		{name: "expired", token: forge(t, hdr, with(claims, "exp", now.Add(-MaxClockSkew-time.Second).Unix()), ours), want: ErrExpired},
		{name: "expired within skew", token: forge(t, hdr, with(claims, "exp", now.Add(-MaxClockSkew).Unix()), ours)},
		{name: "expired long ago", token: forge(t, hdr, with(claims, "exp", 0), ours), want: ErrExpired},
		{name: "nbf beyond skew", token: forge(t, hdr, with(claims, "nbf", now.Add(MaxClockSkew+time.Second).Unix()), ours), want: ErrNotYetValid},
		{name: "nbf within skew", token: forge(t, hdr, with(claims, "nbf", now.Add(MaxClockSkew).Unix()), ours)},
		{name: "iat beyond skew", token: forge(t, hdr, with(claims, "iat", now.Add(MaxClockSkew+time.Second).Unix()), ours), want: ErrIssuedInFuture},
		{name: "iat within skew", token: forge(t, hdr, with(claims, "iat", now.Add(MaxClockSkew).Unix()), ours)},

		// Shape.
		{name: "oversized", token: forge(t, hdr, with(claims, "pad", strings.Repeat("x", MaxTokenSize)), ours), want: ErrTooLarge},
		{name: "empty", token: "", want: ErrMalformed},
		{name: "garbage", token: "garbage", want: ErrMalformed},
		{name: "two segments", token: parts[0] + "." + parts[1], want: ErrMalformed},
		{name: "four segments", token: valid + ".x", want: ErrMalformed},
		{name: "JWE shape", token: "a.b.c.d.e", want: ErrMalformed},
		{name: "whitespace", token: parts[0] + ".\n" + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "padding", token: parts[0] + "=." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "standard base64", token: parts[0] + "." + parts[1] + ".+/" + parts[2][2:], want: ErrMalformed},
		{name: "JSON serialization", token: `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, want: ErrMalformed},
		{name: "header not JSON", token: b64([]byte("not json")) + "." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "header a JSON array", token: b64([]byte(`["ES256"]`)) + "." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "header null", token: b64([]byte(`null`)) + "." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "payload not JSON", token: forgeRaw(t, hdr, []byte("not json"), ours), want: ErrMalformed},
		{name: "payload a JSON string", token: forgeRaw(t, hdr, []byte(`"claims"`), ours), want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := i.Verify(t.Context(), tt.token, testAudience)
			if tt.want == nil {
				if err != nil || got == nil {
					t.Fatalf("Verify() = %v, %v, want claims", got, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify() = %v, %v; want %v and %v", got, err, tt.want, ErrInvalidToken)
			}
			if got != nil {
				t.Errorf("Verify() returned claims %+v with an error", got)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[len(tt.token)-20:]) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}

	if _, err := i.Verify(t.Context(), valid, ""); !errors.Is(err, ErrAudience) {
		t.Errorf("Verify(valid, no audience) = %v, want %v", err, ErrAudience)
	}
}

// forgeRaw is forge with an arbitrary payload.
func forgeRaw(t *testing.T, header any, payload []byte, s signer) string {
	t.Helper()
	h, _ := json.Marshal(header)
	input := b64(h) + "." + b64(payload)
	return input + "." + b64(s(t, []byte(input)))
}

// selfSigned returns a self-signed certificate for key, DER.
func selfSigned(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "registry.example.com"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifyCache(t *testing.T) {
	ctx := t.Context()

	t.Run("expires with the token", func(t *testing.T) {
		clk := newClock()
		i := newTestIssuer(t, &memKeys{}, clk)
		tok := sign(t, i, "alice", 5*time.Minute)
		steps := []struct {
			advance time.Duration // from signing
			want    error
		}{
			{0, nil},
			{4 * time.Minute, nil},
			{5*time.Minute - time.Second, nil},
			{5 * time.Minute, nil}, // past exp: checked in full, within skew
			{5*time.Minute + MaxClockSkew, nil},
			{5*time.Minute + MaxClockSkew + time.Second, ErrExpired},
		}
		signed := clk.Now()
		for _, s := range steps {
			clk.Advance(signed.Add(s.advance).Sub(clk.Now()))
			if _, err := i.Verify(ctx, tok, testAudience); !errors.Is(err, s.want) {
				t.Errorf("Verify() %v after signing = %v, want %v", s.advance, err, s.want)
			}
		}
		if n := i.cache.len(); n != 1 {
			t.Errorf("cache holds %d entries, want 1", n)
		}
	})

	t.Run("hit checks the audience", func(t *testing.T) {
		clk := newClock()
		i := newTestIssuer(t, &memKeys{}, clk)
		tok := sign(t, i, "alice", time.Minute)
		if _, err := i.Verify(ctx, tok, testAudience); err != nil {
			t.Fatalf("Verify() = %v", err)
		}
		if _, err := i.Verify(ctx, tok, "other.example.com"); !errors.Is(err, ErrAudience) {
			t.Errorf("Verify(cached token, other audience) = %v, want %v", err, ErrAudience)
		}
	})

	t.Run("hit returns a copy", func(t *testing.T) {
		clk := newClock()
		i := newTestIssuer(t, &memKeys{}, clk)
		tok := sign(t, i, "alice", time.Minute)
		c, _ := i.Verify(ctx, tok, testAudience)
		c.Subject = "mallory"
		if c, _ := i.Verify(ctx, tok, testAudience); c.Subject != "alice" {
			t.Errorf("Verify() after the caller changed its claims: sub = %q, want alice", c.Subject)
		}
	})

	t.Run("deleted key voids entries", func(t *testing.T) {
		// An operator deletes a compromised key; once the keys reload, its
		// cached tokens no longer verify.
		st := &memKeys{}
		clk := newClock()
		i := newTestIssuer(t, st, clk)
		tok := sign(t, i, "alice", time.Hour)
		if _, err := i.Verify(ctx, tok, testAudience); err != nil {
			t.Fatalf("Verify() = %v", err)
		}
		if err := st.DeleteSigningKey(ctx, kidOf(t, tok)); err != nil {
			t.Fatal(err)
		}
		if _, err := i.MaybeRotate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := i.Verify(ctx, tok, testAudience); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Verify(cached token of a deleted key) = %v, want %v", err, ErrUnknownKey)
		}
	})

	sizes := []struct {
		name string
		size int
		want int // entries at most
	}{
		{name: "bounded", size: 8, want: 8},
		{name: "one", size: 1, want: 1},
		{name: "off", size: 0, want: 0},
	}
	for _, tt := range sizes {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			i := newTestIssuer(t, &memKeys{}, clk, WithVerifyCacheSize(tt.size))
			for n := range 100 {
				tok := sign(t, i, fmt.Sprint(n), time.Hour)
				for range 2 {
					if _, err := i.Verify(ctx, tok, testAudience); err != nil {
						t.Fatalf("Verify(token %d) = %v", n, err)
					}
				}
				if got := i.cache.len(); got > tt.want {
					t.Fatalf("cache holds %d entries after %d tokens, want at most %d", got, n+1, tt.want)
				}
			}
		})
	}

	t.Run("full cache drops expired entries first", func(t *testing.T) {
		clk := newClock()
		i := newTestIssuer(t, &memKeys{}, clk, WithVerifyCacheSize(4))
		for n := range 3 {
			i.Verify(ctx, sign(t, i, fmt.Sprint(n), time.Minute), testAudience)
		}
		long := sign(t, i, "long", time.Hour)
		i.Verify(ctx, long, testAudience)
		clk.Advance(2 * time.Minute)
		i.Verify(ctx, sign(t, i, "new", time.Hour), testAudience)
		if _, ok := i.cache.get(long, clk.Now()); !ok {
			t.Errorf("a live entry was evicted while expired ones were there")
		}
		if got := i.cache.len(); got != 2 {
			t.Errorf("cache holds %d entries, want 2 (the expired ones dropped)", got)
		}
	})
}

func BenchmarkVerifyCached(b *testing.B) {
	clk := newClock()
	i := newTestIssuer(b, &memKeys{}, clk)
	tok := sign(b, i, "alice", time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := i.Verify(b.Context(), tok, testAudience); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyUncached(b *testing.B) {
	clk := newClock()
	i := newTestIssuer(b, &memKeys{}, clk, WithVerifyCacheSize(0))
	tok := sign(b, i, "alice", time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(b.Context(), tok, testAudience); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	clk := newClock()
	i := newTestIssuer(b, &memKeys{}, clk)
	c := Claims{Subject: "alice", Audience: []string{testAudience}, Expiry: clk.Now().Add(time.Minute)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Sign(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
}
