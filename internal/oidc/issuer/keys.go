package issuer

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/store"
)

// algorithm is the only signature algorithm this issuer signs or accepts:
// ECDSA on P-256 with SHA-256 (RFC 7518 section 3.4).
const algorithm = jose.ES256

// key is a decoded signing key. It is immutable.
type key struct {
	id      string
	priv    *ecdsa.PrivateKey
	signer  jose.Signer // sets alg, kid and typ
	created time.Time
	retired time.Time // zero while active
}

// generateKey makes a new P-256 key created at now, in its stored form.
// Its id is the key's JWK thumbprint (RFC 7638), so it names the key and
// nothing else.
func generateKey(now time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	id, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{ID: id, Algorithm: string(algorithm), PrivateKey: der, Created: now}, nil
}

func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("signing key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// errUnsupportedKey marks a stored key this version cannot use (another
// algorithm); it is skipped, not an error of the key set.
var errUnsupportedKey = errors.New("unsupported signing key")

// decodeKey parses a stored key. The error names the key by id only.
func decodeKey(sk store.SigningKey) (*key, error) {
	if sk.Algorithm != string(algorithm) {
		return nil, fmt.Errorf("signing key %s: algorithm %q: %w", sk.ID, sk.Algorithm, errUnsupportedKey)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(sk.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not a PKCS #8 private key", sk.ID)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s: not a P-256 ECDSA key", sk.ID)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: algorithm, Key: jose.JSONWebKey{Key: priv, KeyID: sk.ID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
	}
	return &key{id: sk.ID, priv: priv, signer: signer, created: sk.Created, retired: sk.Retired}, nil
}

// newer orders stored keys oldest first, by creation time, then id. Every
// replica sorts the same rows the same way, so they agree on which active
// key is the newest, whatever their clocks say.
func newer(a, b store.SigningKey) int {
	return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
}

// keyset is a snapshot of the usable keys. It is immutable; Issuer swaps
// in a new one when the keys change.
type keyset struct {
	signing *key            // the newest active key; nil if there is none
	byID    map[string]*key // every key that verifies: active, or retired within the retention
	jwks    []byte          // the public JWK Set (RFC 7517 section 5) of byID
	loaded  time.Time       // when the store was read
}

// jwk is a public key's JWK (RFC 7517 section 4).
func (k *key) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.id, Algorithm: string(algorithm), Use: "sig"}
}

// newKeyset builds a snapshot from decoded keys (any order): the ones
// retired at or before cutoff are left out.
func newKeyset(keys []*key, cutoff, loaded time.Time) (*keyset, error) {
	ks := &keyset{byID: make(map[string]*key, len(keys)), loaded: loaded}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	slices.SortFunc(keys, func(a, b *key) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.id, b.id))
	})
	for _, k := range keys {
		if !k.retired.IsZero() && !k.retired.After(cutoff) {
			continue
		}
		ks.byID[k.id] = k
		set.Keys = append(set.Keys, k.jwk())
		if k.retired.IsZero() {
			ks.signing = k // the last active one is the newest
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	ks.jwks = b
	return ks, nil
}
