// Package pulltoken is the format of pull tokens: long-lived, scoped,
// revocable pull credentials for places without OIDC (a Kubernetes
// node's imagePullSecrets, an air-gapped build farm). A pull token is an
// id, the username a client sends, and a secret, the password.
//
// A secret is "ccpt_", 43 base62 characters of 256 random bits, then 6
// base62 characters of a CRC-32 of those: like GitHub's ghp_ tokens, a
// secret scanner (and our own code, before any lookup) can tell a leaked
// pull token from random text without asking the server. The registry
// keeps only a hash of the secret, bound to the token's id, and compares
// it in constant time.
package pulltoken

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"hash/crc32"
	"log/slog"
	"math/big"
	"strings"
)

const (
	// Prefix starts every secret.
	Prefix = "ccpt_"
	// IDPrefix starts every token id.
	IDPrefix = "pt-"

	bodyLen     = 43 // base62 digits of 256 bits
	checksumLen = 6  // base62 digits of 32 bits
	// SecretLen is the length of a secret.
	SecretLen = len(Prefix) + bodyLen + checksumLen
	// idLen is the random part of an id: 20 base32 characters, 100 bits.
	idLen = 20
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Secret is a pull token's secret. Printing or logging it shows only its
// prefix: the secret is returned once, at creation, and never logged.
type Secret string

// String implements fmt.Stringer without the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Prefix + "…"
}

// GoString is String, so that %#v hides it too.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// NewID returns a new token id: "pt-" and 20 lower-case base32
// characters. Ids are not secret; they name a token in lists and logs.
func NewID() string {
	b := make([]byte, idLen*5/8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return IDPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ValidID reports whether s has the form of a token id, so that a
// username that cannot be one is refused before any lookup.
func ValidID(s string) bool {
	rest, ok := strings.CutPrefix(s, IDPrefix)
	if !ok || len(rest) != idLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// NewSecret returns a new secret of 256 random bits.
func NewSecret() Secret {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	body := encode(new(big.Int).SetBytes(b), bodyLen)
	return Secret(Prefix + body + encode(big.NewInt(int64(crc32.ChecksumIEEE([]byte(body)))), checksumLen))
}

// encode writes n in base62, left-padded with zeros to width digits.
func encode(n *big.Int, width int) string {
	out := []byte(strings.Repeat("0", width))
	base, mod := big.NewInt(62), new(big.Int)
	n = new(big.Int).Set(n)
	for i := width - 1; i >= 0 && n.Sign() > 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// Valid reports whether s has the form of a secret: the prefix, the
// length, base62 characters and a matching checksum. It says nothing of
// whether any token has it.
func Valid(s string) bool {
	if len(s) != SecretLen || !strings.HasPrefix(s, Prefix) {
		return false
	}
	rest := s[len(Prefix):]
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(base62, rest[i]) < 0 {
			return false
		}
	}
	body, sum := rest[:bodyLen], rest[bodyLen:]
	return encode(big.NewInt(int64(crc32.ChecksumIEEE([]byte(body)))), checksumLen) == sum
}

// Hash is what the registry stores of a secret: SHA-256 over the token's
// id and the secret, so that a stored hash cannot be moved to another
// token. A secret has 256 random bits, so a fast hash is enough: there is
// nothing to guess a dictionary against.
func Hash(id string, s Secret) []byte {
	h := sha256.New()
	h.Write([]byte("chainctl pull token\x00"))
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(s))
	return h.Sum(nil)
}

// Verify reports whether s is the secret of token id whose stored hash is
// hash, in time that does not depend on where they differ.
func Verify(id string, s Secret, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(id, s), hash) == 1
}
