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

// PutIdentity implements store.Identities.
func (s *Store) PutIdentity(ctx context.Context, id store.StoredIdentity) error {
	if id.ID == "" || len(id.Document) == 0 || id.Incarnation == "" {
		return errors.New("put identity: empty id, document or incarnation")
	}
	created := id.Created
	if created.IsZero() {
		created = time.Now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.q.putIdentity).ExecContext(ctx, id.ID, id.Document, rowcodec.Nanos(created), id.CreatedBy, id.Incarnation)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrExists
		}
		_, err = tx.StmtContext(ctx, s.q.bumpIdentitiesVersion).ExecContext(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("put identity %s: %w", id.ID, err)
	}
	return nil
}

// GetIdentity implements store.Identities.
func (s *Store) GetIdentity(ctx context.Context, id string) (*store.StoredIdentity, error) {
	out := &store.StoredIdentity{ID: id}
	var created int64
	err := s.q.getIdentity.QueryRowContext(ctx, id).Scan(&out.Document, &created, &out.CreatedBy, &out.Incarnation)
	if err != nil {
		return nil, fmt.Errorf("get identity %s: %w", id, notFound(err))
	}
	out.Created = rowcodec.FromNanos(created)
	return out, nil
}

// ListIdentities implements store.Identities.
func (s *Store) ListIdentities(ctx context.Context) ([]store.StoredIdentity, error) {
	rows, err := s.q.listIdentities.QueryContext(ctx)
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
func (s *Store) DeleteIdentity(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.q.deleteIdentity).ExecContext(ctx, id)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		_, err = tx.StmtContext(ctx, s.q.bumpIdentitiesVersion).ExecContext(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete identity %s: %w", id, err)
	}
	return nil
}

// IdentitiesVersion implements store.Identities.
func (s *Store) IdentitiesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.q.identitiesVersion.QueryRowContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("identities version: %w", err)
	}
	return v, nil
}
