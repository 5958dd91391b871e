package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// PutIdentity implements store.Identities. The identity and the bump of
// the identities version commit together, so a replica that sees the new
// version also sees the identity.
func (db *DB) PutIdentity(ctx context.Context, id store.StoredIdentity) error {
	if id.ID == "" || len(id.Document) == 0 || id.Incarnation == "" {
		return errors.New("put identity: empty id, document or incarnation")
	}
	created := id.Created
	if created.IsZero() {
		created = time.Now()
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, sqlq.PutIdentity, id.ID, id.Document, rowcodec.Nanos(created), id.CreatedBy, id.Incarnation)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return store.ErrExists
		}
		_, err = tx.Exec(ctx, sqlq.BumpIdentitiesVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("put identity %s: %w", id.ID, err)
	}
	return nil
}

// GetIdentity implements store.Identities.
func (db *DB) GetIdentity(ctx context.Context, id string) (*store.StoredIdentity, error) {
	out := &store.StoredIdentity{ID: id}
	var created int64
	if err := db.pool.QueryRow(ctx, sqlq.GetIdentity, id).Scan(&out.Document, &created, &out.CreatedBy, &out.Incarnation); err != nil {
		return nil, fmt.Errorf("get identity %s: %w", id, notFound(err))
	}
	out.Created = rowcodec.FromNanos(created)
	return out, nil
}

// ListIdentities implements store.Identities.
func (db *DB) ListIdentities(ctx context.Context) ([]store.StoredIdentity, error) {
	rows, err := db.pool.Query(ctx, sqlq.ListIdentities)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	defer rows.Close()
	out, err := rowcodec.Collect(rows, rowcodec.StoredIdentity)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	return out, nil
}

// DeleteIdentity implements store.Identities.
func (db *DB) DeleteIdentity(ctx context.Context, id string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, sqlq.DeleteIdentity, id)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlq.BumpIdentitiesVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete identity %s: %w", id, err)
	}
	return nil
}

// IdentitiesVersion implements store.Identities. It reads the database
// every time: another replica may have changed the identities.
func (db *DB) IdentitiesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.pool.QueryRow(ctx, sqlq.IdentitiesVersion).Scan(&v); err != nil {
		return 0, fmt.Errorf("identities version: %w", err)
	}
	return v, nil
}
