package upstream

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/oidc/upstream/zitadeltest"
)

func TestZitadelExampleServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an external OIDC provider")
	}
	issuer := zitadeltest.Start(t)
	idToken, nonce := zitadeltest.Login(t, issuer)

	p, err := StaticIssuers(Issuer{URL: issuer})
	if err != nil {
		t.Fatalf("StaticIssuers(%q) = %v", issuer, err)
	}
	v := New(WithIssuers(p))
	want := Expectation{Issuers: []string{issuer}, Audience: zitadeltest.Client}

	t.Run("discovered keys", func(t *testing.T) {
		tok, err := v.Verify(t.Context(), idToken, want)
		if err != nil {
			t.Fatalf("Verify(zitadel ID token) = %v, want nil", err)
		}
		if tok.Issuer != issuer || tok.Subject != zitadeltest.Subject {
			t.Errorf("Verify() iss, sub = %q, %q; want %q, %q", tok.Issuer, tok.Subject, issuer, zitadeltest.Subject)
		}
		// The example server puts profile and email claims in userinfo, not
		// in an ID token issued alongside an access token.
		if got := tok.Claims["azp"]; got != zitadeltest.Client {
			t.Errorf("Verify() azp = %v, want %q", got, zitadeltest.Client)
		}
		if _, ok := tok.Claims["auth_time"].(json.Number); !ok {
			t.Errorf("Verify() auth_time = %#v, want a json.Number", tok.Claims["auth_time"])
		}
		if got := tok.Claims["nonce"]; got != nonce {
			t.Errorf("Verify() nonce = %v, want %q", got, nonce)
		}
		if tok.Algorithm != "RS256" || tok.KeyID == "" {
			t.Errorf("Verify() alg, kid = %q, %q; want RS256 and a kid", tok.Algorithm, tok.KeyID)
		}
	})

	t.Run("rejections", func(t *testing.T) {
		tests := []struct {
			name string
			raw  string
			want Expectation
		}{
			{"wrong audience", idToken, Expectation{Issuers: want.Issuers, Audience: "registry.example.test"}},
			{"issuer not expected", idToken, Expectation{Issuers: []string{"https://other.example.test"}, Audience: zitadeltest.Client}},
			{"tampered signature", tamper(idToken), want},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := v.Verify(t.Context(), tt.raw, tt.want); !errors.Is(err, ErrInvalidToken) {
					t.Errorf("Verify() = %v, want ErrInvalidToken", err)
				}
			})
		}
	})

	t.Run("static keys", func(t *testing.T) {
		resp, err := http.Get(issuer + "keys")
		if err != nil {
			t.Fatal(err)
		}
		jwks, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		p, err := StaticIssuers(Issuer{URL: issuer, JWKS: jwks})
		if err != nil {
			t.Fatalf("StaticIssuers(zitadel JWKS) = %v", err)
		}
		offline := New(WithIssuers(p), WithTransport(failingTransport{t}))
		if _, err := offline.Verify(t.Context(), idToken, want); err != nil {
			t.Errorf("Verify(static keys) = %v, want nil", err)
		}
	})
}

// tamper flips a bit of the signature.
func tamper(raw string) string {
	i := strings.LastIndexByte(raw, '.')
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if err != nil || len(sig) == 0 {
		return raw + "x"
	}
	sig[len(sig)/2] ^= 1
	return raw[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}
