package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// Errors from this file name the key by id only: the private key never
// appears in an error, and so never in a log. (PostgreSQL's own messages
// for these statements quote at most the id, in a unique violation.)

// PutSigningKey implements store.SigningKeys.
func (db *DB) PutSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PrivateKey) == 0 {
		return errors.New("put signing key: empty id, algorithm or private key")
	}
	created := k.Created
	if created.IsZero() {
		created = time.Now()
	}
	if _, err := db.pool.Exec(ctx, sqlq.PutSigningKey,
		k.ID, k.Algorithm, k.PrivateKey, k.KEK, rowcodec.Nanos(created), retiredNanos(k.Retired)); err != nil {
		return fmt.Errorf("put signing key %s: %w", k.ID, err)
	}
	return nil
}

// SigningKeys implements store.SigningKeys.
func (db *DB) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := db.pool.Query(ctx, sqlq.SigningKeys)
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
func (db *DB) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("retire signing key %s: zero retirement time", id)
	}
	res, err := db.pool.Exec(ctx, sqlq.RetireSigningKey, id, rowcodec.Nanos(at))
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("retire signing key %s: %w", id, err)
	}
	return nil
}

// DeleteSigningKey implements store.SigningKeys.
func (db *DB) DeleteSigningKey(ctx context.Context, id string) error {
	res, err := db.pool.Exec(ctx, sqlq.DeleteSigningKey, id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("delete signing key %s: %w", id, err)
	}
	return nil
}

// RewrapSigningKey implements store.SigningKeys.
func (db *DB) RewrapSigningKey(ctx context.Context, id, fromKEK, toKEK string, privateKey []byte) error {
	if len(privateKey) == 0 {
		return fmt.Errorf("rewrap signing key %s: empty private key", id)
	}
	res, err := db.pool.Exec(ctx, sqlq.RewrapSigningKey, id, fromKEK, toKEK, privateKey)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("rewrap signing key %s: %w", id, err)
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
