package upstream

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/fakeclock"
)

const testAudience = "registry.example.test"

func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Unix(1_800_000_000, 0)) }

// testKey is a signing key and its public JWK.
type testKey struct {
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	pub  jose.JSONWebKey
}

func newKey(t *testing.T, alg jose.SignatureAlgorithm, kid string) testKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("newKey: unsupported alg %s", alg)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", alg, err)
	}
	return testKey{
		alg:  alg,
		priv: priv,
		pub:  jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"},
	}
}

// sign makes a compact JWS of claims with k, adding extra protected headers.
func (k testKey) sign(t *testing.T, claims map[string]any, extra map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for name, v := range extra {
		opts = opts.WithHeader(name, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.pub.KeyID}}, opts)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rawToken assembles a token from a header, claims and signature as given.
func rawToken(t *testing.T, hdr, claims map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "." + enc.EncodeToString(sig)
}

func jwksJSON(t *testing.T, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claimsFor returns valid claims for issuer at now.
func claimsFor(issuer string, now time.Time) map[string]any {
	return map[string]any{
		"iss":           issuer,
		"sub":           "repo:chainctl/chainctl:ref:refs/heads/main",
		"aud":           testAudience,
		"iat":           now.Unix(),
		"nbf":           now.Unix(),
		"exp":           now.Add(10 * time.Minute).Unix(),
		"ref":           "refs/heads/main",
		"repository_id": json.Number("123456789"),
	}
}

// testIssuer is an OIDC issuer on loopback serving discovery and a JWKS,
// counting every request it gets.
type testIssuer struct {
	*httptest.Server
	issuer string // the issuer identifier (the server URL)

	requests  atomic.Int64
	discovery atomic.Int64
	jwks      atomic.Int64

	mu   sync.Mutex
	keys []jose.JSONWebKey
	// Overrides; nil or empty means "behave".
	docIssuer string
	jwksURI   string
	handler   map[string]http.HandlerFunc
}

func newTestIssuer(t *testing.T, tls bool, keys ...testKey) *testIssuer {
	t.Helper()
	ti := &testIssuer{handler: map[string]http.HandlerFunc{}}
	for _, k := range keys {
		ti.keys = append(ti.keys, k.pub)
	}
	ti.Server = httptest.NewUnstartedServer(http.HandlerFunc(ti.serve))
	ti.Config.ErrorLog = log.New(io.Discard, "", 0) // e.g. TLS handshakes the tests make fail
	if tls {
		ti.StartTLS()
	} else {
		ti.Start()
	}
	t.Cleanup(ti.Close)
	ti.issuer = ti.URL
	return ti
}

func (ti *testIssuer) serve(w http.ResponseWriter, r *http.Request) {
	ti.requests.Add(1)
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		ti.discovery.Add(1)
	case "/keys":
		ti.jwks.Add(1)
	}
	ti.mu.Lock()
	h := ti.handler[r.URL.Path]
	docIssuer, jwksURI, keys := ti.docIssuer, ti.jwksURI, append([]jose.JSONWebKey(nil), ti.keys...)
	ti.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		if docIssuer == "" {
			docIssuer = ti.issuer
		}
		if jwksURI == "" {
			jwksURI = ti.URL + "/keys"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": docIssuer, "jwks_uri": jwksURI})
	case "/keys":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	default:
		http.NotFound(w, r)
	}
}

func (ti *testIssuer) setKeys(keys ...testKey) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.keys = nil
	for _, k := range keys {
		ti.keys = append(ti.keys, k.pub)
	}
}

func (ti *testIssuer) handle(path string, h http.HandlerFunc) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.handler[path] = h
}

func (ti *testIssuer) set(f func(ti *testIssuer)) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	f(ti)
}

// verifierFor returns a verifier that knows ti (and trusts its certificate)
// plus any extra issuers.
func verifierFor(t *testing.T, ti *testIssuer, clock *fakeclock.Clock, opts ...Option) *Verifier {
	t.Helper()
	issuers := []Issuer{{URL: ti.issuer}}
	p, err := StaticIssuers(issuers...)
	if err != nil {
		t.Fatalf("StaticIssuers: %v", err)
	}
	base := []Option{WithIssuers(p), WithClock(clock.Now), WithTransport(ti.Client().Transport)}
	return New(append(base, opts...)...)
}

func expect(issuers ...string) Expectation {
	return Expectation{Issuers: issuers, Audience: testAudience}
}

// failingTransport fails the test on any request.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request: %s %s", r.Method, r.URL)
	return nil, http.ErrUseLastResponse
}

func bigJSON(field string, size int) string {
	return `{"issuer":"x","` + field + `":"` + strings.Repeat("a", size) + `"}`
}
