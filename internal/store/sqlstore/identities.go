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
	err := s.versioned(ctx, putIdentity, bumpIdentitiesVersion, store.ErrExists, nil,
		id.ID, id.Document, nanos(created), id.CreatedBy, id.Incarnation)
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
	err := s.versioned(ctx, deleteIdentity, bumpIdentitiesVersion, store.ErrNotFound, nil, id)
	if err != nil {
		return fmt.Errorf("delete identity %s: %w", id, err)
	}
	return nil
}

// IdentitiesVersion implements store.Identities. It reads the database
// every time: another replica may have changed the identities.
func (s *Store) IdentitiesVersion(ctx context.Context) (int64, error) {
	v, err := s.version(ctx, identitiesVersion)
	if err != nil {
		return 0, fmt.Errorf("identities version: %w", err)
	}
	return v, nil
}
