// Package keywrap encrypts the registry's secrets at rest under a
// key-encryption key (KEK) that lives outside the database: a dump of the
// database alone must not let anyone mint tokens.
//
// A Wrapper seals and opens small secrets (signing keys), binding each to
// associated data (the key's id) so that a sealed value cannot be moved to
// another row. Keyring is the local implementation: AES-256-GCM with keys
// from a file or an environment variable. A cloud KMS fits the same
// interface: its KEK ids carry their own prefix ("local:" here), and every
// sealed row names the KEK that sealed it.
package keywrap

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Wrapper seals and opens secrets under key-encryption keys.
type Wrapper interface {
	// Current names the KEK Wrap seals with.
	Current() string
	// Wrap seals plaintext, bound to aad, under the current KEK, and
	// returns that KEK's id with the sealed bytes.
	Wrap(ctx context.Context, plaintext, aad []byte) (kek string, sealed []byte, err error)
	// Unwrap opens sealed, which kek sealed bound to aad. It returns an
	// error wrapping ErrUnknownKEK when kek is not among its keys, and
	// ErrSealed when the bytes or aad do not match.
	Unwrap(ctx context.Context, kek string, sealed, aad []byte) ([]byte, error)
}

var (
	// ErrUnknownKEK means a value is sealed under a KEK the Wrapper lacks.
	ErrUnknownKEK = errors.New("key-encryption key not configured")
	// ErrSealed means sealed bytes did not open: altered, truncated, moved
	// to another row, or sealed under another key with the same id.
	ErrSealed = errors.New("sealed value does not open")
)

// KeySize is the size of a local KEK: AES-256.
const KeySize = 32

// localPrefix starts the id of every local KEK.
const localPrefix = "local:"

// format is the first byte of every sealed value: AES-256-GCM, a 12-byte
// random nonce, then the ciphertext with its 16-byte tag.
const format byte = 1

// Keyring is a set of local KEKs: the first seals, all of them open. It is
// immutable and safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ Wrapper = (*Keyring)(nil)

// NewKeyring returns a keyring of keys, each KeySize random bytes; keys[0]
// seals. At least one key is needed and none may repeat.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("key-encryption keyring: no key")
	}
	r := &Keyring{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("key-encryption key %d: %d bytes, want %d (AES-256)", i+1, len(k), KeySize)
		}
		id := KeyID(k)
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("key-encryption key %d: the same key as an earlier one (%s)", i+1, id)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("key-encryption key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key-encryption key %d: %w", i+1, err)
		}
		r.aeads[id] = aead
		if i == 0 {
			r.current = id
		}
	}
	return r, nil
}

// KeyID names a local KEK: "local:" and 16 hex digits of a hash of the
// key, which identifies it without revealing anything of it.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("chainctl key-encryption key id\x00"))
	h.Write(key)
	return localPrefix + hex.EncodeToString(h.Sum(nil)[:8])
}

// ParseKeyring reads a keyring's text: one key a line, base64 (standard or
// URL alphabet, padded or not) of KeySize bytes, the sealing key first and
// older keys after it, which still open what they sealed. Blank lines and
// lines starting with # are skipped; commas separate keys too, for an
// environment variable. Errors name the line, never its content.
func ParseKeyring(text []byte) (*Keyring, error) {
	var keys [][]byte
	for n, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for field := range strings.SplitSeq(line, ",") {
			field = strings.TrimSpace(field)
			if field == "" {
				continue
			}
			k, err := decodeKey(field)
			if err != nil {
				return nil, fmt.Errorf("key-encryption keyring line %d: %w", n+1, err)
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("key-encryption keyring: no key in it")
	}
	return NewKeyring(keys...)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("a key of %d bytes, want %d (AES-256; make one with: head -c 32 /dev/urandom | base64)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("not base64 (make a key with: head -c 32 /dev/urandom | base64)")
}

// GenerateKey returns a new random KEK in a keyring's text form (base64
// and a newline).
func GenerateKey() (string, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return "", fmt.Errorf("generate key-encryption key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k) + "\n", nil
}

// Current implements Wrapper.
func (r *Keyring) Current() string { return r.current }

// IDs returns the ids of the keyring's KEKs, the sealing one first.
func (r *Keyring) IDs() []string {
	ids := []string{r.current}
	for id := range r.aeads {
		if id != r.current {
			ids = append(ids, id)
		}
	}
	return ids
}

// Wrap implements Wrapper.
func (r *Keyring) Wrap(_ context.Context, plaintext, aad []byte) (string, []byte, error) {
	aead := r.aeads[r.current]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = format
	if _, err := rand.Read(out[1:]); err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	return r.current, aead.Seal(out, out[1:], plaintext, aad), nil
}

// Unwrap implements Wrapper.
func (r *Keyring) Unwrap(_ context.Context, kek string, sealed, aad []byte) ([]byte, error) {
	aead, ok := r.aeads[kek]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKEK, kek)
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != format {
		return nil, fmt.Errorf("%w under %s: malformed", ErrSealed, kek)
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("%w under %s", ErrSealed, kek)
	}
	return plain, nil
}
