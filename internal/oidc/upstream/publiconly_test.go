package upstream

import (
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/egress"
)

// TestVerify_PublicOnly checks that a PublicOnly issuer's fetches refuse to
// connect to loopback, whether its URL names an IP or a host name that
// resolves to one, before any request is sent; the same issuer without
// PublicOnly (as the server configuration may name it) is fetched. The
// guard itself is tested in package egress; this checks that the verifier
// uses it for PublicOnly issuers, and only for them.
func TestVerify_PublicOnly(t *testing.T) {
	key := newKey(t, jose.ES256, "k1")
	ti := newTestIssuer(t, true, key)
	byName := strings.Replace(ti.issuer, "127.0.0.1", "localhost", 1)
	if byName == ti.issuer {
		t.Fatalf("test issuer %s is not on 127.0.0.1", ti.issuer)
	}

	for _, tt := range []struct {
		name       string
		issuer     Issuer
		wantRefuse bool
	}{
		{"configured", Issuer{URL: ti.issuer}, false},
		{"public only, IP", Issuer{URL: ti.issuer, PublicOnly: true}, true},
		{"public only, name resolving to loopback", Issuer{URL: byName, PublicOnly: true}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := StaticIssuers(tt.issuer)
			if err != nil {
				t.Fatal(err)
			}
			before := ti.requests.Load()
			v := New(WithIssuers(p), WithTransport(ti.Client().Transport), WithFetchTimeout(5*time.Second))
			tok := key.sign(t, claimsFor(tt.issuer.URL, time.Now()), nil)
			_, err = v.Verify(t.Context(), tok, expect(tt.issuer.URL))
			if !tt.wantRefuse {
				if err != nil {
					t.Fatalf("Verify() = %v, want success", err)
				}
				return
			}
			// "localhost" may resolve to ::1 as well as 127.0.0.1; either is refused.
			named := err != nil && (strings.Contains(err.Error(), "non-public address: 127.0.0.1") || strings.Contains(err.Error(), "non-public address: ::1"))
			if err == nil || !errors.Is(err, ErrIssuer) || !errors.Is(err, egress.ErrNotPublic) || Retryable(err) || !named {
				t.Errorf("Verify() = %v, want a non-retryable ErrIssuer wrapping egress.ErrNotPublic and naming the refused address", err)
			}
			if n := ti.requests.Load() - before; n != 0 {
				t.Errorf("the issuer received %d requests, want 0", n)
			}
		})
	}
}
