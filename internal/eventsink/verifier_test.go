package eventsink_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink"
	"github.com/chainctl/chainctl/internal/eventsink/eventsinktest"
	"github.com/chainctl/chainctl/internal/fakeclock"
)

const sink = "http://127.0.0.1:8080/"

// t0 is a whole second: NumericDates round-trip exactly.
var t0 = time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)

func newVerifier(t *testing.T, registry string, clock *fakeclock.Clock, opts ...eventsink.Option) *eventsink.Verifier {
	t.Helper()
	v, err := eventsink.New(registry, sink, append([]eventsink.Option{eventsink.WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// verify runs v on d as a sink would: the body read, then Verify.
func verify(t *testing.T, v *eventsink.Verifier, d *eventsinktest.Delivery) error {
	t.Helper()
	r := d.Request(t)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(r, body)
	return err
}

// resign signs d's claims again, after a test changed them.
func resign(t *testing.T, is *eventsinktest.Issuer, d *eventsinktest.Delivery) {
	d.Token = eventsinktest.Sign(t, is.SigningKey(), d.Claims)
}

// unsigned is a compact JWS with header h, the claims c and signature sig,
// for algorithms go-jose will not sign with.
func unsigned(t *testing.T, h map[string]any, c eventsinktest.Claims, sig []byte) string {
	t.Helper()
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(hb) + "." + enc(cb) + "." + enc(sig)
}

func TestVerify(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	other := eventsinktest.NewIssuer(t)
	stranger := eventsinktest.NewKey(t, "key-2") // never published
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// change makes the good delivery bad.
		change     func(t *testing.T, d *eventsinktest.Delivery)
		typ        string
		wantStatus int    // 0: accepted
		wantReason string // the refusal's text
	}{
		{name: "a push"},
		{name: "a pull", typ: events.TypePull, change: func(t *testing.T, d *eventsinktest.Delivery) {
			var data events.Data
			_ = json.Unmarshal(d.Body, &data)
			data.Method = http.MethodGet
			d.Body, _ = json.Marshal(data)
			d.Claims.Digest = eventsinktest.Digest(d.Body)
			resign(t, is, d)
		}},
		{name: "audience without the final slash", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Audience = jwt.Audience{"http://127.0.0.1:8080"}
			resign(t, is, d)
		}},
		{name: "audience among several", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Audience = jwt.Audience{"https://elsewhere.example.com/", sink}
			resign(t, is, d)
		}},
		{name: "expired within the leeway", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.IssuedAt, d.Claims.Expiry = jwt.NewNumericDate(t0.Add(-5*time.Minute)), jwt.NewNumericDate(t0.Add(-30*time.Second))
			d.Claims.NotBefore = d.Claims.IssuedAt
			resign(t, is, d)
		}},

		{name: "no token", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Token = "" },
			wantStatus: 401, wantReason: "no bearer token"},
		{name: "basic credentials", change: func(_ *testing.T, d *eventsinktest.Delivery) {
			d.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("a:b")))
			d.Token = ""
		}, wantStatus: 401, wantReason: "no bearer token"},
		{name: "not a JWS", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Token = "abc.def" },
			wantStatus: 401, wantReason: "malformed token"},
		{name: "replayed after it expired", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.IssuedAt, d.Claims.Expiry = jwt.NewNumericDate(t0.Add(-10*time.Minute)), jwt.NewNumericDate(t0.Add(-5*time.Minute))
			d.Claims.NotBefore = d.Claims.IssuedAt
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token expired"},
		{name: "not valid yet", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.NotBefore = jwt.NewNumericDate(t0.Add(2 * time.Minute))
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token not valid yet"},
		{name: "issued in the future", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.IssuedAt, d.Claims.NotBefore = jwt.NewNumericDate(t0.Add(2*time.Minute)), nil
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token issued in the future"},
		{name: "no expiry", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Expiry = nil
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token without exp or iat"},
		{name: "body altered after signing", change: func(_ *testing.T, d *eventsinktest.Delivery) {
			d.Body = []byte(strings.Replace(string(d.Body), `"tag":"v1"`, `"tag":"v2"`, 1))
			d.Header.Set("Ce-Subject", "acme/app:v2")
		}, wantStatus: 401, wantReason: "body does not match the token's digest"},
		{name: "event id changed after signing", change: func(_ *testing.T, d *eventsinktest.Delivery) {
			d.Header.Set("Ce-Id", "ffffffffffffffffffffffffffffffff")
		}, wantStatus: 401, wantReason: "the token does not name this event (ce claim)"},
		{name: "no ce claim", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Event = nil
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "the token does not name this event (ce claim)"},
		{name: "no digest", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Digest = ""
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token has no body digest"},
		{name: "another issuer, its own key", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Issuer = other.URL
			d.Token = eventsinktest.Sign(t, other.SigningKey(), d.Claims) // kid "key-1", another key
		}, wantStatus: 401, wantReason: "bad signature"},
		{name: "another issuer named, our key", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Issuer = other.URL
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token from another issuer"},
		{name: "another audience", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Audience = jwt.Audience{"http://127.0.0.1:9090/"}
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token for another sink"},
		{name: "another path of this sink", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Audience = jwt.Audience{sink + "other"}
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token for another sink"},
		{name: "not a subscription", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Claims.Subject = "alice"
			resign(t, is, d)
		}, wantStatus: 401, wantReason: "token subject is not a subscription"},
		{name: "alg none", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Token = unsigned(t, map[string]any{"alg": "none", "kid": "key-1"}, d.Claims, nil)
		}, wantStatus: 401, wantReason: "token algorithm is not ES256"},
		{name: "HS256 keyed with the public key", change: func(t *testing.T, d *eventsinktest.Delivery) {
			pub, _ := json.Marshal(jose.JSONWebKey{Key: is.SigningKey().Private.Public(), KeyID: "key-1"})
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pub}, (&jose.SignerOptions{}).WithHeader("kid", "key-1"))
			if err != nil {
				t.Fatal(err)
			}
			d.Token, _ = jwt.Signed(signer).Claims(d.Claims).Serialize()
		}, wantStatus: 401, wantReason: "token algorithm is not ES256"},
		{name: "RS256", change: func(t *testing.T, d *eventsinktest.Delivery) {
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, (&jose.SignerOptions{}).WithHeader("kid", "key-1"))
			d.Token, _ = jwt.Signed(signer).Claims(d.Claims).Serialize()
		}, wantStatus: 401, wantReason: "token algorithm is not ES256"},
		{name: "key in the header", change: func(t *testing.T, d *eventsinktest.Delivery) {
			k := stranger
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.Private},
				(&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", "key-1"))
			d.Token, _ = jwt.Signed(signer).Claims(d.Claims).Serialize()
		}, wantStatus: 401, wantReason: `token header "jwk" is not accepted`},
		{name: "no kid", change: func(t *testing.T, d *eventsinktest.Delivery) {
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: is.SigningKey().Private}, nil)
			d.Token, _ = jwt.Signed(signer).Claims(d.Claims).Serialize()
		}, wantStatus: 401, wantReason: "token has no key id"},
		{name: "unknown kid", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Token = eventsinktest.Sign(t, stranger, d.Claims)
		}, wantStatus: 401, wantReason: "unknown key id"},
		{name: "signature of another token", change: func(t *testing.T, d *eventsinktest.Delivery) {
			c := d.Claims
			c.Subject = "subscription:sub-bbbbbbbbbbbbbbbbbbbb"
			parts := strings.Split(eventsinktest.Sign(t, is.SigningKey(), c), ".")
			mine := strings.Split(d.Token, ".")
			d.Token = mine[0] + "." + mine[1] + "." + parts[2]
		}, wantStatus: 401, wantReason: "bad signature"},

		{name: "subject header changed", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Header.Set("Ce-Subject", "acme/app:latest") },
			wantStatus: 401, wantReason: "event subject does not match its data"},
		{name: "type header changed", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Header.Set("Ce-Type", events.TypePull) },
			wantStatus: 401, wantReason: "event type does not match its data"},
		{name: "source header changed", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Header.Set("Ce-Source", other.URL) },
			wantStatus: 401, wantReason: "event source is not the registry"},
		{name: "no event id", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Header.Del("Ce-Id") },
			wantStatus: 400, wantReason: "invalid CloudEvent"},
		{name: "not a CloudEvent", change: func(_ *testing.T, d *eventsinktest.Delivery) { d.Header.Del("Ce-Specversion") },
			wantStatus: 400, wantReason: "not a CloudEvent"},
		{name: "data not a registry event", change: func(t *testing.T, d *eventsinktest.Delivery) {
			d.Body = []byte(`{"hello":"world"}`)
			d.Claims.Digest = eventsinktest.Digest(d.Body)
			resign(t, is, d)
		}, wantStatus: 400, wantReason: "event data is not a registry event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(t0)
			v := newVerifier(t, is.URL, clock)
			typ := tt.typ
			if typ == "" {
				typ = events.TypePush
			}
			d := is.Delivery(t, sink, typ, eventsinktest.PushData(t0.Add(-time.Second)), t0)
			if tt.change != nil {
				tt.change(t, d)
			}
			r := d.Request(t)
			body, _ := io.ReadAll(r.Body)
			ev, err := v.Verify(r, body)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Verify() = %v, want the event", err)
				}
				var data events.Data
				if ev.Type() != typ || ev.Source() != is.URL || ev.Subject() != "acme/app:v1" || ev.DataAs(&data) != nil || data.Actor.Identities[0] != "alice" {
					t.Errorf("Verify() = %v, want the delivered %s event of acme/app:v1", ev, typ)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify() accepted the delivery, want %d %q", tt.wantStatus, tt.wantReason)
			}
			if got := eventsink.StatusCode(err); got != tt.wantStatus || err.Error() != tt.wantReason {
				t.Errorf("Verify() = %d %q, want %d %q", got, err, tt.wantStatus, tt.wantReason)
			}
			if d.Token != "" && strings.Contains(err.Error(), d.Token) {
				t.Errorf("the refusal quotes the token")
			}
		})
	}
}

// TestVerifyKeyRotation: a delivery signed by a key published after the
// keys were fetched is accepted, after one refetch; unknown kids refetch
// at most once per interval.
func TestVerifyKeyRotation(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	clock := fakeclock.New(t0)
	v := newVerifier(t, is.URL, clock)
	if err := v.Discover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v.Issuer() != is.URL {
		t.Errorf("Issuer() = %q, want %q", v.Issuer(), is.URL)
	}
	good := is.Delivery(t, sink, events.TypePush, eventsinktest.PushData(t0), t0)
	if err := verify(t, v, good); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if d, k := is.Fetches(); d != 1 || k != 1 {
		t.Fatalf("fetches = %d, %d, want 1, 1: a known kid fetches nothing", d, k)
	}

	// An unknown kid: one refetch, then none for the interval.
	forged := *good
	forged.Token = eventsinktest.Sign(t, eventsinktest.NewKey(t, "forged"), good.Claims)
	for range 3 {
		if err := verify(t, v, &forged); !errors.Is(err, eventsink.ErrUnauthorized) {
			t.Fatalf("Verify(unknown kid) = %v, want ErrUnauthorized", err)
		}
	}
	if _, k := is.Fetches(); k != 1 {
		t.Fatalf("JWKS fetches = %d, want 1: the refetch is rate-limited", k)
	}

	// The registry rotates: its new key is not known yet, and is fetched
	// once the interval has passed.
	is.Publish(eventsinktest.NewKey(t, "key-2"))
	rotated := is.Delivery(t, sink, events.TypePush, eventsinktest.PushData(t0), t0)
	if err := verify(t, v, rotated); err == nil || err.Error() != "unknown key id" {
		t.Fatalf("Verify(new key) within the interval = %v, want unknown key id", err)
	}
	clock.Advance(eventsink.DefaultRefetchInterval)
	if err := verify(t, v, rotated); err != nil {
		t.Fatalf("Verify(new key) after the interval = %v", err)
	}
	if err := verify(t, v, good); err != nil {
		t.Fatalf("Verify(old key) after rotation = %v", err)
	}
	if _, k := is.Fetches(); k != 2 {
		t.Errorf("JWKS fetches = %d, want 2", k)
	}
}

func TestVerifyRegistryUnavailable(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	down := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(down.Close)
	v := newVerifier(t, down.URL, fakeclock.New(t0))
	err := v.Discover(t.Context())
	if !errors.Is(err, eventsink.ErrUnavailable) || !strings.Contains(err.Error(), "404") {
		t.Errorf("Discover() = %v, want ErrUnavailable naming the 404", err)
	}
	d := is.Delivery(t, sink, events.TypePush, eventsinktest.PushData(t0), t0)
	if err := verify(t, v, d); eventsink.StatusCode(err) != http.StatusServiceUnavailable {
		t.Errorf("Verify() without keys = %v (%d), want 503", err, eventsink.StatusCode(err))
	}
}

// TestDiscoveryDocument: what the registry's documents must be.
func TestDiscoveryDocument(t *testing.T) {
	tests := []struct {
		name      string
		discovery string // %s is the server's URL
		jwks      string
		redirect  string // where /.well-known/openid-configuration redirects
		wantErr   string
	}{
		{name: "no issuer", discovery: `{"jwks_uri":"%s/jwks"}`, wantErr: "no valid issuer"},
		{name: "jwks over plain http elsewhere", discovery: `{"issuer":"%s","jwks_uri":"http://keys.example.com/jwks"}`, wantErr: "plain http is only allowed to a loopback host"},
		{name: "no usable key", discovery: `{"issuer":"%s","jwks_uri":"%s/jwks"}`, jwks: `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}`, wantErr: "no ES256 key"},
		{name: "not JSON", discovery: `<html>`, wantErr: "not JSON"},
		{name: "redirect to another host", redirect: "http://localhost:1/x", wantErr: "redirect from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/.well-known/openid-configuration" && tt.redirect != "":
					http.Redirect(w, r, tt.redirect, http.StatusFound)
				case r.URL.Path == "/.well-known/openid-configuration":
					_, _ = io.WriteString(w, strings.ReplaceAll(tt.discovery, "%s", url))
				case r.URL.Path == "/jwks":
					_, _ = io.WriteString(w, tt.jwks)
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			url = srv.URL
			err := newVerifier(t, srv.URL, fakeclock.New(t0)).Discover(t.Context())
			if !errors.Is(err, eventsink.ErrUnavailable) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Discover() = %v, want ErrUnavailable with %q", err, tt.wantErr)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, registry, audience, wantErr string
	}{
		{name: "https", registry: "https://registry.example.com/", audience: "https://hooks.example.com/x"},
		{name: "loopback http", registry: "http://127.0.0.1:5000", audience: "http://127.0.0.1:8080"},
		{name: "plain http elsewhere", registry: "http://registry.example.com", audience: sink, wantErr: "plain http is only allowed to a loopback host"},
		{name: "no scheme", registry: "registry.example.com", audience: sink, wantErr: "want http(s)://HOST[:PORT]"},
		{name: "relative sink", registry: "https://r.example.com", audience: "/hook", wantErr: "want an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventsink.New(tt.registry, tt.audience)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("New(%q, %q) = %v, want error %q", tt.registry, tt.audience, err, tt.wantErr)
			}
		})
	}
}

// TestVerifyConcurrent: deliveries arriving together, before any key is
// known, share one fetch.
func TestVerifyConcurrent(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	v := newVerifier(t, is.URL, fakeclock.New(t0))
	d := is.Delivery(t, sink, events.TypePush, eventsinktest.PushData(t0), t0)
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() {
			r := d.Request(t)
			_, err := v.Verify(r, d.Body)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("Verify() = %v", err)
		}
	}
	if dc, k := is.Fetches(); dc != 1 || k != 1 {
		t.Errorf("fetches = %d, %d, want 1, 1", dc, k)
	}
}
