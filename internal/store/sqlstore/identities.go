package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// PutIdentity implements store.Identities. The identity and the bump of
// the identities version commit together, so a replica that sees the new
// version also sees the identity.
func (s *Store) PutIdentity(ctx context.Context, id store.StoredIdentity) error {
	if id.ID == "" || len(id.Document) == 0 || id.Incarnation == "" {
		return errors.New("put identity: empty id, document or incarnation")
	}
	created := id.Created
	if created.IsZero() {
		created = time.Now()
	}
	err := s.inTx(ctx, func(tx Conn) error {
		n, err := affected(s.run(ctx, tx, putIdentity).ExecContext(ctx, id.ID, id.Document, nanos(created), id.CreatedBy, id.Incarnation))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrExists
		}
		_, err = s.run(ctx, tx, bumpIdentitiesVersion).ExecContext(ctx)
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
	err := s.run(ctx, nil, getIdentity).QueryRowContext(ctx, id).Scan(&out.Document, &created, &out.CreatedBy, &out.Incarnation)
	if err != nil {
		return nil, fmt.Errorf("get identity %s: %w", id, notFound(err))
	}
	out.Created = fromNanos(created)
	return out, nil
}

// ListIdentities implements store.Identities.
func (s *Store) ListIdentities(ctx context.Context) ([]store.StoredIdentity, error) {
	out, err := collect(ctx, s.run(ctx, nil, listIdentities), scanIdentity)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	return out, nil
}

// DeleteIdentity implements store.Identities.
func (s *Store) DeleteIdentity(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx Conn) error {
		res, err := s.run(ctx, tx, deleteIdentity).ExecContext(ctx, id)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		_, err = s.run(ctx, tx, bumpIdentitiesVersion).ExecContext(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete identity %s: %w", id, err)
	}
	return nil
}

// IdentitiesVersion implements store.Identities. It reads the database
// every time: another replica may have changed the identities.
func (s *Store) IdentitiesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.run(ctx, nil, identitiesVersion).QueryRowContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("identities version: %w", err)
	}
	return v, nil
}
