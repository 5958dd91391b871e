package upstream

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestVerify_DiscoveryHardening(t *testing.T) {
	// elsewhere stands for any host other than the issuer's; it must never
	// be asked for anything.
	elsewhere := newTestIssuer(t, true)

	tests := []struct {
		name      string
		tls       bool
		setup     func(ti *testIssuer)
		retryable bool
		want      string // in the error
	}{
		{
			name:  "discovery names another issuer",
			setup: func(ti *testIssuer) { ti.set(func(ti *testIssuer) { ti.docIssuer = elsewhere.issuer }) },
			want:  "names issuer",
		},
		{
			name:  "discovery issuer differs by a trailing slash",
			setup: func(ti *testIssuer) { ti.set(func(ti *testIssuer) { ti.docIssuer = ti.issuer + "/" }) },
			want:  "names issuer",
		},
		{
			name: "discovery redirects to another host",
			tls:  true,
			setup: func(ti *testIssuer) {
				ti.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, elsewhere.URL+"/.well-known/openid-configuration", http.StatusFound)
				})
			},
			want: "redirect refused",
		},
		{
			name: "JWKS redirects to another host",
			tls:  true,
			setup: func(ti *testIssuer) {
				ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, elsewhere.URL+"/keys", http.StatusMovedPermanently)
				})
			},
			want: "redirect refused",
		},
		{
			name: "redirect from https to http on the same host",
			tls:  true,
			setup: func(ti *testIssuer) {
				ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "http://"+r.Host+"/keys2", http.StatusFound)
				})
			},
			want: "redirect refused",
		},
		{
			name: "redirect loop on the same host",
			setup: func(ti *testIssuer) {
				ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "/keys", http.StatusFound)
				})
			},
			want: "redirects",
		},
		{
			name: "oversized discovery document with a length",
			setup: func(ti *testIssuer) {
				ti.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
					body := bigJSON("pad", maxResponseSize)
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					_, _ = w.Write([]byte(body))
				})
			},
			want: "exceeds",
		},
		{
			name: "oversized JWKS, streamed without a length",
			setup: func(ti *testIssuer) {
				ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
					_, _ = w.Write([]byte(`{"keys":[],"pad":"`))
					w.(http.Flusher).Flush()
					chunk := []byte(strings.Repeat("a", 64<<10))
					for range 2 * maxResponseSize / len(chunk) {
						if _, err := w.Write(chunk); err != nil {
							return
						}
					}
					_, _ = w.Write([]byte(`"}`))
				})
			},
			want: "exceeds",
		},
		{
			name:  "jwks_uri over plain http to a non-loopback host",
			tls:   true,
			setup: func(ti *testIssuer) { ti.set(func(ti *testIssuer) { ti.jwksURI = "http://keys.example.test/keys" }) },
			want:  "plain http is allowed only on loopback",
		},
		{
			name:  "jwks_uri with another scheme",
			setup: func(ti *testIssuer) { ti.set(func(ti *testIssuer) { ti.jwksURI = "ftp://keys.example.test/keys" }) },
			want:  "is not https",
		},
		{
			name: "jwks_uri missing",
			setup: func(ti *testIssuer) {
				ti.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
					_, _ = w.Write([]byte(`{"issuer":"` + ti.issuer + `"}`))
				})
			},
			want: "jwks_uri",
		},
		{
			name: "discovery not JSON",
			setup: func(ti *testIssuer) {
				ti.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
					_, _ = w.Write([]byte("<html>"))
				})
			},
			want: "decode",
		},
		{
			name: "JWKS without a usable key",
			setup: func(ti *testIssuer) {
				ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
					_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k1"},{"kty":"XYZ"}]}`))
				})
			},
			want: "no usable signing key",
		},
		{
			name: "discovery 404",
			setup: func(ti *testIssuer) {
				ti.handle("/.well-known/openid-configuration", http.NotFound)
			},
			want: "404",
		},
		{
			name: "discovery 503",
			setup: func(ti *testIssuer) {
				ti.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "down", http.StatusServiceUnavailable)
				})
			},
			retryable: true,
			want:      "503",
		},
		{
			name: "JWKS 429",
			setup: func(ti *testIssuer) {
				ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "slow down", http.StatusTooManyRequests)
				})
			},
			retryable: true,
			want:      "429",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := newKey(t, jose.RS256, "k1")
			ti := newTestIssuer(t, tt.tls, key)
			tt.setup(ti)
			clock := newFakeClock()
			v := verifierFor(t, ti, clock)
			raw := key.sign(t, claimsFor(ti.issuer, clock.Now()), nil)

			_, err := v.Verify(t.Context(), raw, expect(ti.issuer))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify() = %v, want an error with %q", err, tt.want)
			}
			if got := Retryable(err); got != tt.retryable {
				t.Errorf("Retryable(%v) = %v, want %v", err, got, tt.retryable)
			}
			wantKind := ErrIssuer
			if tt.retryable {
				wantKind = ErrUnavailable
			}
			if !errors.Is(err, wantKind) || errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify() = %v, want it to wrap %v alone", err, wantKind)
			}

			// The failure is cached for the refetch interval: no new requests.
			before := ti.requests.Load()
			if _, err2 := v.Verify(t.Context(), raw, expect(ti.issuer)); err2 == nil {
				t.Errorf("second Verify() = nil, want the cached error")
			}
			if got := ti.requests.Load(); got != before {
				t.Errorf("requests after a cached failure = %d, want %d", got, before)
			}
		})
	}
	if got := elsewhere.requests.Load(); got != 0 {
		t.Errorf("requests to the other host = %d, want 0", got)
	}
}

func TestVerify_SameHostRedirectFollowed(t *testing.T) {
	key := newKey(t, jose.ES256, "k1")
	ti := newTestIssuer(t, true, key)
	ti.set(func(ti *testIssuer) { ti.jwksURI = ti.URL + "/old-keys" })
	ti.handle("/old-keys", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/keys", http.StatusMovedPermanently)
	})
	clock := newFakeClock()
	v := verifierFor(t, ti, clock)
	if _, err := v.Verify(t.Context(), key.sign(t, claimsFor(ti.issuer, clock.Now()), nil), expect(ti.issuer)); err != nil {
		t.Fatalf("Verify() = %v, want nil", err)
	}
}

func TestVerify_SlowIssuerTimesOut(t *testing.T) {
	key := newKey(t, jose.RS256, "k1")
	ti := newTestIssuer(t, false, key)
	release := make(chan struct{})
	ti.handle("/keys", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	clock := newFakeClock()
	v := verifierFor(t, ti, clock, WithFetchTimeout(100*time.Millisecond))

	_, err := v.Verify(t.Context(), key.sign(t, claimsFor(ti.issuer, clock.Now()), nil), expect(ti.issuer))
	if !Retryable(err) {
		t.Fatalf("Verify() = %v, want a retryable timeout", err)
	}

	// A caller whose own context ends stops waiting for the fetch.
	clock.Advance(time.Minute)
	ctx, cancel := contextWithCancel(t)
	cancel()
	_, err = v.Verify(ctx, key.sign(t, claimsFor(ti.issuer, clock.Now()), nil), expect(ti.issuer))
	if !Retryable(err) {
		t.Errorf("Verify(canceled) = %v, want a retryable error", err)
	}
}

func TestVerify_TLSIssuerNeedsTrust(t *testing.T) {
	key := newKey(t, jose.RS256, "k1")
	ti := newTestIssuer(t, true, key)
	p, err := StaticIssuers(Issuer{URL: ti.issuer})
	if err != nil {
		t.Fatal(err)
	}
	// No WithTransport: the test server's certificate is not trusted.
	v := New(WithIssuers(p), WithFetchTimeout(5*time.Second))
	_, err = v.Verify(t.Context(), key.sign(t, claimsFor(ti.issuer, time.Now()), nil), expect(ti.issuer))
	if err == nil || errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify() with an untrusted certificate = %v, want a fetch error", err)
	}
}

func TestParseKeySet(t *testing.T) {
	good := newKey(t, jose.ES256, "good")
	weak := newKey(t, jose.RS256, "weak")
	weak.pub.Key = mustRSA1024(t)
	enc := good.pub
	enc.KeyID, enc.Use = "enc", "enc"
	private := jose.JSONWebKey{Key: good.priv, KeyID: "private", Algorithm: "ES256"}
	hmac := jose.JSONWebKey{Key: []byte("secret-secret-secret"), KeyID: "hmac", Algorithm: "HS256"}

	keys, err := parseKeySet(jwksJSON(t, good.pub, weak.pub, enc, private, hmac))
	if err != nil {
		t.Fatalf("parseKeySet() = %v", err)
	}
	if len(keys) != 1 || keys[0].KeyID != "good" {
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.KeyID)
		}
		t.Errorf("parseKeySet() kept %q, want only \"good\"", ids)
	}
	if _, err := parseKeySet([]byte(`{"keys":[]}`)); err == nil {
		t.Errorf("parseKeySet(empty) = nil, want an error")
	}
}

func TestCheckRedirect(t *testing.T) {
	req := func(u string) *http.Request { return httptest.NewRequest(http.MethodGet, u, nil) }
	if err := checkRedirect(req("https://idp.example.test/b"), []*http.Request{req("https://idp.example.test/a")}); err != nil {
		t.Errorf("checkRedirect(same host) = %v, want nil", err)
	}
	if err := checkRedirect(req("https://evil.example.test/b"), []*http.Request{req("https://idp.example.test/a")}); !errors.Is(err, errRedirect) {
		t.Errorf("checkRedirect(other host) = %v, want errRedirect", err)
	}
	if err := checkRedirect(req("https://idp.example.test:8443/b"), []*http.Request{req("https://idp.example.test/a")}); !errors.Is(err, errRedirect) {
		t.Errorf("checkRedirect(other port) = %v, want errRedirect", err)
	}
}

func mustRSA1024(t *testing.T) *rsa.PublicKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
