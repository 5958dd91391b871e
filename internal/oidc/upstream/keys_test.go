package upstream

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// verifyAll runs Verify of raw from n goroutines at once and returns the errors.
func verifyAll(t *testing.T, v *Verifier, n int, raw string, want Expectation) []error {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = v.Verify(t.Context(), raw, want)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestVerify_ConcurrentFirstFetchShared(t *testing.T) {
	key := newKey(t, jose.ES256, "k1")
	ti := newTestIssuer(t, true, key)
	// Hold the JWKS answer until every caller has had the chance to pile up.
	gate := make(chan struct{})
	ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
		<-gate
		_, _ = w.Write(jwksJSON(t, key.pub))
	})
	clock := newFakeClock()
	v := verifierFor(t, ti, clock)
	raw := key.sign(t, claimsFor(ti.issuer, clock.Now()), nil)

	go func() {
		for ti.jwks.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		close(gate)
	}()
	for i, err := range verifyAll(t, v, 32, raw, expect(ti.issuer)) {
		if err != nil {
			t.Errorf("Verify() #%d = %v, want nil", i, err)
		}
	}
	if d, j := ti.discovery.Load(), ti.jwks.Load(); d != 1 || j != 1 {
		t.Errorf("fetches = %d discovery, %d JWKS; want 1, 1", d, j)
	}
}

func TestVerify_UnknownKidRefetchRateLimited(t *testing.T) {
	old := newKey(t, jose.RS256, "old")
	next := newKey(t, jose.ES256, "next")
	ti := newTestIssuer(t, false, old)
	clock := newFakeClock()
	v := verifierFor(t, ti, clock)
	want := expect(ti.issuer)

	if _, err := v.Verify(t.Context(), old.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want); err != nil {
		t.Fatalf("Verify(old) = %v", err)
	}
	if got := ti.jwks.Load(); got != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", got)
	}

	// Past the refetch interval, a flood of tokens with an unknown kid
	// causes exactly one refetch, shared by all.
	clock.Advance(defaultRefetchInterval + time.Second)
	forged := next.sign(t, claimsFor(ti.issuer, clock.Now()), nil)
	for i, err := range verifyAll(t, v, 50, forged, want) {
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(unknown kid) #%d = %v, want ErrInvalidToken", i, err)
		}
	}
	if got := ti.jwks.Load(); got != 2 {
		t.Errorf("JWKS fetches after unknown kids = %d, want 2", got)
	}

	// The IdP rotates to the new key. Within the interval the verifier
	// does not look again.
	ti.setKeys(old, next)
	clock.Advance(defaultRefetchInterval / 2)
	for i, err := range verifyAll(t, v, 20, next.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want) {
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(rotated, rate-limited) #%d = %v, want ErrInvalidToken", i, err)
		}
	}
	if got := ti.jwks.Load(); got != 2 {
		t.Errorf("JWKS fetches while rate-limited = %d, want 2", got)
	}
	// Known keys keep working meanwhile, without fetches.
	if _, err := v.Verify(t.Context(), old.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want); err != nil {
		t.Errorf("Verify(old, rate-limited) = %v, want nil", err)
	}

	// After the window the new key is picked up, once.
	clock.Advance(defaultRefetchInterval)
	for i, err := range verifyAll(t, v, 20, next.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want) {
		if err != nil {
			t.Errorf("Verify(rotated) #%d = %v, want nil", i, err)
		}
	}
	if got := ti.jwks.Load(); got != 3 {
		t.Errorf("JWKS fetches after the window = %d, want 3", got)
	}

	// The IdP retires the old key; the cache drops it on the next refetch.
	ti.setKeys(next)
	clock.Advance(defaultRefetchInterval + time.Second)
	stranger := newKey(t, jose.ES256, "stranger")
	if _, err := v.Verify(t.Context(), stranger.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(stranger) = %v, want ErrInvalidToken", err)
	}
	if _, err := v.Verify(t.Context(), old.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(retired key) = %v, want ErrInvalidToken", err)
	}
	if got := ti.jwks.Load(); got != 4 {
		t.Errorf("JWKS fetches at the end = %d, want 4", got)
	}
}

func TestVerify_StaleKeysRefreshed(t *testing.T) {
	key := newKey(t, jose.EdDSA, "k1")
	ti := newTestIssuer(t, false, key)
	clock := newFakeClock()
	v := verifierFor(t, ti, clock)
	want := expect(ti.issuer)
	verify := func() error {
		_, err := v.Verify(t.Context(), key.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want)
		return err
	}
	if err := verify(); err != nil {
		t.Fatal(err)
	}

	// Past the key TTL the keys are refetched on use.
	clock.Advance(defaultKeyTTL + time.Second)
	if err := verify(); err != nil {
		t.Fatal(err)
	}
	if got := ti.jwks.Load(); got != 2 {
		t.Errorf("JWKS fetches after the TTL = %d, want 2", got)
	}

	// When a refresh fails, the stale keys still serve.
	ti.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	})
	clock.Advance(defaultKeyTTL + time.Second)
	if err := verify(); err != nil {
		t.Errorf("Verify() with the issuer down and stale keys = %v, want nil", err)
	}
	if got := ti.discovery.Load(); got != 3 {
		t.Errorf("discovery fetches = %d, want 3", got)
	}
	// An unknown kid now says the issuer is unavailable, not that the token is bad.
	clock.Advance(defaultRefetchInterval + time.Second)
	other := newKey(t, jose.EdDSA, "k2")
	_, err := v.Verify(t.Context(), other.sign(t, claimsFor(ti.issuer, clock.Now()), nil), want)
	if !Retryable(err) {
		t.Errorf("Verify(unknown kid, issuer down) = %v, want retryable", err)
	}
}

func TestValidateIssuer(t *testing.T) {
	key := newKey(t, jose.ES256, "k1")
	tests := []struct {
		name string
		is   Issuer
		ok   bool
	}{
		{"https", Issuer{URL: "https://token.actions.githubusercontent.com"}, true},
		{"https with path", Issuer{URL: "https://gitlab.example.test/oidc/"}, true},
		{"http on 127.0.0.1", Issuer{URL: "http://127.0.0.1:9998"}, true},
		{"http on localhost", Issuer{URL: "http://localhost:9998/"}, true},
		{"http on ::1", Issuer{URL: "http://[::1]:9998"}, true},
		{"http on 127.1.2.3", Issuer{URL: "http://127.1.2.3"}, true},
		{"static keys", Issuer{URL: "https://ci.example.test", JWKS: jwksJSON(t, key.pub)}, true},
		{"http elsewhere", Issuer{URL: "http://idp.example.test"}, false},
		{"http on a private address", Issuer{URL: "http://10.0.0.1"}, false},
		{"http on a name that starts like localhost", Issuer{URL: "http://localhost.example.test"}, false},
		{"http with static keys", Issuer{URL: "http://ci.example.test", JWKS: jwksJSON(t, key.pub)}, false},
		{"other scheme", Issuer{URL: "ftp://idp.example.test"}, false},
		{"no scheme", Issuer{URL: "idp.example.test"}, false},
		{"empty", Issuer{}, false},
		{"no host", Issuer{URL: "https:///path"}, false},
		{"user info", Issuer{URL: "https://user:pw@idp.example.test"}, false},
		{"query", Issuer{URL: "https://idp.example.test/?a=b"}, false},
		{"fragment", Issuer{URL: "https://idp.example.test/#x"}, false},
		{"bad static keys", Issuer{URL: "https://ci.example.test", JWKS: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)}, false},
		{"static keys not JSON", Issuer{URL: "https://ci.example.test", JWKS: []byte(`nope`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateIssuer(tt.is)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateIssuer(%q) = %v, want ok %v", tt.is.URL, err, tt.ok)
			}
			_, err = StaticIssuers(tt.is)
			if (err == nil) != tt.ok {
				t.Errorf("StaticIssuers(%q) = %v, want ok %v", tt.is.URL, err, tt.ok)
			}
		})
	}
	if _, err := StaticIssuers(Issuer{URL: "https://a.example.test"}, Issuer{URL: "https://a.example.test"}); err == nil {
		t.Errorf("StaticIssuers(duplicate) = nil, want an error")
	}
}

func TestVerify_MisconfiguredProviderRefused(t *testing.T) {
	// A provider that hands out an insecure issuer is not trusted blindly.
	const iss = "http://idp.example.test"
	key := newKey(t, jose.RS256, "k1")
	v := New(WithTransport(failingTransport{t}), WithIssuers(IssuerProviderFunc(
		func(_ context.Context, got string) (Issuer, bool, error) { return Issuer{URL: got}, true, nil })))
	_, err := v.Verify(t.Context(), key.sign(t, claimsFor(iss, time.Now()), nil), expect(iss))
	if !errors.Is(err, ErrIssuer) {
		t.Errorf("Verify() = %v, want ErrIssuer", err)
	}
	// A provider failure is retryable.
	v = New(WithTransport(failingTransport{t}), WithIssuers(IssuerProviderFunc(
		func(context.Context, string) (Issuer, bool, error) { return Issuer{}, false, errors.New("db down") })))
	_, err = v.Verify(t.Context(), key.sign(t, claimsFor(iss, time.Now()), nil), expect(iss))
	if !Retryable(err) {
		t.Errorf("Verify() with a failing provider = %v, want retryable", err)
	}
}
