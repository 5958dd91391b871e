package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ciIssuer stands in for a CI platform's OIDC issuer that the registry
// cannot reach: the server is configured with its public keys (an
// identity's issuer_keys) and the tests sign tokens with its private key.
type ciIssuer struct {
	key  *ecdsa.PrivateKey
	jwks string
}

const ciIssuerURL = "https://ci.e2e.invalid"

func newCIIssuer(t *testing.T) *ciIssuer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "e2e", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &ciIssuer{key: k, jwks: string(b)}
}

// config is a server configuration whose identity accepts this issuer's
// tokens for subject as the owner of every repository.
func (c *ciIssuer) config(subject string) string {
	return fmt.Sprintf(`auth:
  public_repositories: ["public/*"]
  identities:
    - id: e2e
      issuer: %s
      issuer_keys: %s
      subject: %s
      roles: [{role: owner, repositories: ["*"]}]
`, ciIssuerURL, c.jwks, subject)
}

// token signs an ID token for subject, audience the registry's service
// name (its host:port).
func (c *ciIssuer) token(t *testing.T, subject, audience string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: c.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(sig).Claims(jwt.Claims{
		Issuer: ciIssuerURL, Subject: subject, Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(30 * time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
