package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The benchmark authenticates to chainctl as an upstream OIDC identity of
// its own: it is the issuer, signs its own ID tokens, and configures
// chainctl to trust its public key (an identity with static issuer_keys,
// as for a CI system the registry cannot reach).
const (
	benchIssuer  = "https://bench.invalid" // never fetched: the keys are static
	benchSubject = "bench"
	benchUser    = "bench" // the Basic user name at the token endpoint; chainctl ignores it
	// publicPrefix holds the repositories anyone may pull without a
	// token (workload anon).
	publicPrefix = "bench-public/"
	// upstreamTokenLifetime is the lifetime of each upstream ID token; a
	// fresh one is minted for every token request.
	upstreamTokenLifetime = time.Hour
)

// chainctlConfig is `chainctl registry serve --config`'s file: bearer
// tokens on every repository, for the identity above as owner, and
// anonymous pulls of bench-public/*. The identity's audience is left at
// its default, the registry's service name. The event workloads' sinks
// listen on loopback, which subscriptions may name only with
// events.allow_private_sinks.
const chainctlConfig = `# Written by chainctl-bench (docs/performance.md).
auth:
  public_repositories: ["bench-public/*"]
  identities:
    - id: bench
      issuer: %s
      issuer_keys: %s
      subject: %s
      roles: [{role: owner, repositories: ["*"]}]
events:
  allow_private_sinks: true
`

// upstreamIssuer is the benchmark's own OIDC issuer: an ES256 key.
type upstreamIssuer struct {
	key *ecdsa.PrivateKey
	kid string
}

func newUpstreamIssuer() (*upstreamIssuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate upstream key: %w", err)
	}
	tp, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256) // RFC 7638
	if err != nil {
		return nil, fmt.Errorf("upstream key id: %w", err)
	}
	return &upstreamIssuer{key: key, kid: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// jwks returns the public key as a JSON Web Key Set.
func (u *upstreamIssuer) jwks() ([]byte, error) {
	pub := jose.JSONWebKey{Key: &u.key.PublicKey, KeyID: u.kid, Algorithm: string(jose.ES256), Use: "sig"}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, fmt.Errorf("encode upstream key: %w", err)
	}
	return b, nil
}

// writeConfig writes chainctl's configuration file to path, readable by
// its owner only.
func (u *upstreamIssuer) writeConfig(path string) error {
	keys, err := u.jwks()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write chainctl config: %w", err)
	}
	// JSON strings and objects are YAML flow scalars and mappings.
	iss, _ := json.Marshal(benchIssuer)
	sub, _ := json.Marshal(benchSubject)
	body := fmt.Sprintf(chainctlConfig, iss, keys, sub)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return fmt.Errorf("write chainctl config: %w", err)
	}
	return nil
}

// token mints an upstream ID token for audience (the registry's service
// name), issued at now and valid for an hour. It is a credential for
// tokenSource.
func (u *upstreamIssuer) token(audience string, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: u.key, KeyID: u.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("upstream token: %w", err)
	}
	claims, err := json.Marshal(map[string]any{
		"iss": benchIssuer,
		"sub": benchSubject,
		"aud": audience,
		"iat": now.Unix(),
		"exp": now.Add(upstreamTokenLifetime).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("upstream token: %w", err)
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("upstream token: %w", err)
	}
	return jws.CompactSerialize()
}
