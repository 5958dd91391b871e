package keywrap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// SealedKeys keeps signing keys' private parts sealed in the store
// underneath: PutSigningKey seals, SigningKeys opens. Its callers
// (the issuer) see PKCS #8 DER as before, with KEK "".
type SealedKeys struct {
	inner store.SigningKeys
	w     Wrapper
}

// SealSigningKeys returns keys with their private parts sealed by w.
func SealSigningKeys(keys store.SigningKeys, w Wrapper) *SealedKeys {
	return &SealedKeys{inner: keys, w: w}
}

// signingKeyAAD binds a sealed private key to its row: a sealed key copied
// into another row (another id) does not open.
func signingKeyAAD(k store.SigningKey) []byte {
	return []byte("chainctl signing key\x00" + k.ID + "\x00" + k.Algorithm)
}

// PutSigningKey seals k's private key and stores it. k must come in the
// clear (KEK "").
func (s *SealedKeys) PutSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KEK != "" {
		return fmt.Errorf("put signing key %s: already sealed", k.ID)
	}
	if len(k.PrivateKey) == 0 {
		return s.inner.PutSigningKey(ctx, k) // the store's own error
	}
	kek, sealed, err := s.w.Wrap(ctx, k.PrivateKey, signingKeyAAD(k))
	if err != nil {
		return fmt.Errorf("put signing key %s: %w", k.ID, err)
	}
	k.PrivateKey, k.KEK = sealed, kek
	return s.inner.PutSigningKey(ctx, k)
}

// SigningKeys returns the stored keys with their private keys opened. A
// key stored in the clear (by an earlier version) comes as it is; Seal
// seals it. A key that does not open is an error, not a key skipped: it
// means the keyring is wrong, and carrying on would make a new key and
// retire the others.
func (s *SealedKeys) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := s.inner.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if keys[i], err = s.open(ctx, k); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func (s *SealedKeys) open(ctx context.Context, k store.SigningKey) (store.SigningKey, error) {
	if k.KEK == "" {
		return k, nil
	}
	plain, err := s.w.Unwrap(ctx, k.KEK, k.PrivateKey, signingKeyAAD(k))
	switch {
	case errors.Is(err, ErrUnknownKEK):
		return store.SigningKey{}, fmt.Errorf("signing key %s is sealed under key-encryption key %s, which is not in the configured keyring (its first key is %s): "+
			"add that key to the keyring after the current one", k.ID, k.KEK, s.w.Current())
	case err != nil:
		return store.SigningKey{}, fmt.Errorf("signing key %s: %w: the stored key was altered, or the keyring holds another key under the id %s", k.ID, err, k.KEK)
	}
	k.PrivateKey, k.KEK = plain, ""
	return k, nil
}

// RetireSigningKey retires key id, as the store underneath does.
func (s *SealedKeys) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	return s.inner.RetireSigningKey(ctx, id, at)
}

// DeleteSigningKey deletes key id, as the store underneath does.
func (s *SealedKeys) DeleteSigningKey(ctx context.Context, id string) error {
	return s.inner.DeleteSigningKey(ctx, id)
}

// SealResult says what Seal changed.
type SealResult struct {
	// Clear is how many keys were stored in the clear and are now sealed.
	Clear int
	// Resealed is how many keys moved from an older KEK to the current.
	Resealed int
	// ClearActive is how many of the Clear keys were still active:
	// whoever holds an old copy of the database holds them, so the caller
	// should rotate.
	ClearActive int
}

// Seal seals every key stored in the clear, and re-seals under the current
// KEK every key sealed under an older one (KEK rotation). Replicas doing
// it at once change each row once. Run it at start, before the issuer
// reads the keys.
func (s *SealedKeys) Seal(ctx context.Context) (SealResult, error) {
	var res SealResult
	stored, err := s.inner.SigningKeys(ctx)
	if err != nil {
		return res, err
	}
	current := s.w.Current()
	for _, k := range stored {
		if k.KEK == current {
			continue
		}
		from := k.KEK
		opened, err := s.open(ctx, k)
		if err != nil {
			return res, err
		}
		kek, sealed, err := s.w.Wrap(ctx, opened.PrivateKey, signingKeyAAD(k))
		if err != nil {
			return res, fmt.Errorf("seal signing key %s: %w", k.ID, err)
		}
		err = s.inner.RewrapSigningKey(ctx, k.ID, from, kek, sealed)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // deleted, or another replica sealed it first
		case err != nil:
			return res, err
		case from == "":
			res.Clear++
			if k.Active() {
				res.ClearActive++
			}
		default:
			res.Resealed++
		}
	}
	return res, nil
}
