package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// Errors from this file name the key by id only: the private key never
// appears in an error, and so never in a log. (PostgreSQL's own messages
// for these statements quote at most the id, in a unique violation.)

// PutSigningKey implements store.SigningKeys.
func (s *Store) PutSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PrivateKey) == 0 {
		return errors.New("put signing key: empty id, algorithm or private key")
	}
	created := k.Created
	if created.IsZero() {
		created = time.Now()
	}
	if _, err := s.run(ctx, nil, putSigningKey).ExecContext(ctx,
		k.ID, k.Algorithm, k.PrivateKey, k.KEK, nanos(created), retiredNanos(k.Retired)); err != nil {
		return fmt.Errorf("put signing key %s: %w", k.ID, err)
	}
	return nil
}

// SigningKeys implements store.SigningKeys.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	out, err := collect(ctx, s.run(ctx, nil, listSigningKeys), scanSigningKey)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return out, nil
}

// RetireSigningKey implements store.SigningKeys.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("retire signing key %s: zero retirement time", id)
	}
	if err := s.execOne(ctx, retireSigningKey, id, nanos(at)); err != nil {
		return fmt.Errorf("retire signing key %s: %w", id, err)
	}
	return nil
}

// DeleteSigningKey implements store.SigningKeys.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	if err := s.execOne(ctx, deleteSigningKey, id); err != nil {
		return fmt.Errorf("delete signing key %s: %w", id, err)
	}
	return nil
}

// RewrapSigningKey implements store.SigningKeys.
func (s *Store) RewrapSigningKey(ctx context.Context, id, fromKEK, toKEK string, privateKey []byte) error {
	if len(privateKey) == 0 {
		return fmt.Errorf("rewrap signing key %s: empty private key", id)
	}
	if err := s.execOne(ctx, rewrapSigningKey, id, fromKEK, toKEK, privateKey); err != nil {
		return fmt.Errorf("rewrap signing key %s: %w", id, err)
	}
	s.scrub(ctx, id)
	return nil
}

// scrub runs Dialect.Scrub after a key's private part was replaced. A
// failure leaves the old bytes on disk a while longer; it is
// logged, not returned, since the write itself committed.
func (s *Store) scrub(ctx context.Context, id string) {
	if s.d.Scrub == nil {
		return
	}
	if err := s.d.Scrub(ctx, s.w); err != nil {
		s.log.WarnContext(ctx, "scrub after replacing a signing key", "kid", id, "err", err)
	}
}

// retiredNanos is the retired column's form of t: 0 for an active key.
func retiredNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return nanos(t)
}
