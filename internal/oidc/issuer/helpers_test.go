package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/store"
)

const (
	testIssuer   = "https://registry.example.com"
	testAudience = "registry.example.com"
)

// t0 is a whole second, so that claims round-trip exactly.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newClock() *fakeclock.Clock { return fakeclock.New(t0) }

// memKeys is an in-memory KeyStore with the store's semantics
// (see storetest), a read counter, and a switch that makes it fail.
type memKeys struct {
	mu    sync.Mutex
	keys  []store.SigningKey
	reads int
	fail  bool
}

var _ KeyStore = (*memKeys)(nil)

var errStoreDown = errors.New("store down")

func (m *memKeys) PutSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errStoreDown
	}
	if slices.ContainsFunc(m.keys, func(o store.SigningKey) bool { return o.ID == k.ID }) {
		return errors.New("duplicate id")
	}
	k.PrivateKey = slices.Clone(k.PrivateKey)
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) SigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.fail {
		return nil, errStoreDown
	}
	out := slices.Clone(m.keys)
	slices.SortFunc(out, newer)
	return out, nil
}

func (m *memKeys) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errStoreDown
	}
	for i := range m.keys {
		if m.keys[i].ID == id {
			if m.keys[i].Retired.IsZero() {
				m.keys[i].Retired = at
			}
			return nil
		}
	}
	return store.ErrNotFound
}

func (m *memKeys) DeleteSigningKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errStoreDown
	}
	n := len(m.keys)
	m.keys = slices.DeleteFunc(m.keys, func(k store.SigningKey) bool { return k.ID == id })
	if len(m.keys) == n {
		return store.ErrNotFound
	}
	return nil
}

func (m *memKeys) setFail(fail bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = fail
}

func (m *memKeys) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// stored returns a copy of the stored keys, oldest first.
func (m *memKeys) stored(t *testing.T) []store.SigningKey {
	t.Helper()
	ks, err := m.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys() = %v", err)
	}
	return ks
}

// private returns the private key stored under kid.
func (m *memKeys) private(t *testing.T, kid string) *ecdsa.PrivateKey {
	t.Helper()
	for _, k := range m.stored(t) {
		if k.ID == kid {
			p, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
			if err != nil {
				t.Fatalf("ParsePKCS8PrivateKey(%s) = %v", kid, err)
			}
			return p.(*ecdsa.PrivateKey)
		}
	}
	t.Fatalf("no stored key %s", kid)
	return nil
}

// activeIDs lists the ids of the stored active keys.
func (m *memKeys) activeIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, k := range m.stored(t) {
		if k.Active() {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

// newTestIssuer returns an issuer on st with clk and the test issuer URL.
func newTestIssuer(t testing.TB, st KeyStore, clk *fakeclock.Clock, opts ...Option) *Issuer {
	t.Helper()
	opts = append([]Option{WithIssuerURL(testIssuer), WithClock(clk.Now)}, opts...)
	i, err := New(t.Context(), st, opts...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return i
}

// sign signs claims expiring in ttl for testAudience and fails the test
// on error.
func sign(t testing.TB, i *Issuer, sub string, ttl time.Duration) string {
	t.Helper()
	raw, err := i.Sign(t.Context(), Claims{Subject: sub, Audience: []string{testAudience}, Expiry: i.now().Add(ttl)})
	if err != nil {
		t.Fatalf("Sign(%s) = %v", sub, err)
	}
	return raw
}

// kidOf returns the kid header of raw, unverified.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("ParseSigned() = %v", err)
	}
	return tok.Headers[0].KeyID
}

// activeKid returns the kid the issuer signs with now.
func activeKid(t *testing.T, i *Issuer) string {
	t.Helper()
	return kidOf(t, sign(t, i, "probe", time.Minute))
}

// jwks returns the kids the issuer publishes.
func publishedKids(t *testing.T, i *Issuer) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(i.fresh(t.Context()).jwks, &set); err != nil {
		t.Fatalf("unmarshal JWKS: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	slices.Sort(kids)
	return kids
}

// A signer makes the signature of a JWS signing input.
type signer func(t testing.TB, input []byte) []byte

// forge builds a compact JWS from any header and claims, signed by s (nil:
// an empty signature). It is how the tests make tokens the issuer would
// never sign.
func forge(t testing.TB, header, claims any, s signer) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(c)
	var sig []byte
	if s != nil {
		sig = s(t, []byte(input))
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// es signs with an ECDSA key: ES256 on P-256, ES384 on P-384 (RFC 7518
// section 3.4: r and s, each the curve's size, concatenated).
func es(priv *ecdsa.PrivateKey) signer {
	return func(t testing.TB, input []byte) []byte {
		var digest []byte
		if priv.Curve.Params().BitSize == 384 {
			d := sha512.Sum384(input)
			digest = d[:]
		} else {
			d := sha256.Sum256(input)
			digest = d[:]
		}
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (priv.Curve.Params().BitSize + 7) / 8
		return append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
	}
}

// hs signs with HMAC-SHA256 under key.
func hs(key []byte) signer {
	return func(_ testing.TB, input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

// rs signs with RSASSA-PKCS1-v1_5 SHA-256.
func rs(priv *rsa.PrivateKey) signer {
	return func(t testing.TB, input []byte) []byte {
		d := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}
