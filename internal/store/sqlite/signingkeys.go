package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
)

// Errors from this file name the key by id only: the private key never
// appears in an error, and so never in a log.

// PutSigningKey implements store.SigningKeys.
func (s *Store) PutSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PrivateKey) == 0 {
		return errors.New("put signing key: empty id, algorithm or private key")
	}
	created := k.Created
	if created.IsZero() {
		created = time.Now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.q.putSigningKey).ExecContext(ctx,
			k.ID, k.Algorithm, k.PrivateKey, k.KEK, rowcodec.Nanos(created), retiredNanos(k.Retired))
		return err
	})
	if err != nil {
		return fmt.Errorf("put signing key %s: %w", k.ID, err)
	}
	return nil
}

// SigningKeys implements store.SigningKeys.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.q.signingKeys.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	out, err := rowcodec.Collect(rows, rowcodec.SigningKey)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.q.retireSigningKey).ExecContext(ctx, id, rowcodec.Nanos(at))
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("retire signing key %s: %w", id, err)
	}
	return nil
}

// DeleteSigningKey implements store.SigningKeys.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.q.deleteSigningKey).ExecContext(ctx, id)
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("delete signing key %s: %w", id, err)
	}
	return nil
}

// retiredNanos is the retired column's form of t: 0 for an active key.
func retiredNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return rowcodec.Nanos(t)
}

// RewrapSigningKey implements store.SigningKeys.
func (s *Store) RewrapSigningKey(ctx context.Context, id, fromKEK, toKEK string, privateKey []byte) error {
	if len(privateKey) == 0 {
		return fmt.Errorf("rewrap signing key %s: empty private key", id)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.q.rewrapSigningKey).ExecContext(ctx, id, fromKEK, toKEK, privateKey)
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("rewrap signing key %s: %w", id, err)
	}
	// The old form is still in the write-ahead log, or in the database's
	// page until a checkpoint rewrites it: checkpoint now and empty the
	// log, so that neither file keeps it. Rare (sealing, KEK rotation), so
	// the cost does not matter; readers in the way only delay it.
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		s.log.WarnContext(ctx, "checkpoint after re-wrapping a signing key", "kid", id, "err", err)
	}
	return nil
}
