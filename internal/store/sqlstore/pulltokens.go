package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// PutPullToken implements store.PullTokens. The token and the bump of the
// pull tokens version commit together, as identities do.
func (s *Store) PutPullToken(ctx context.Context, t store.PullToken) error {
	if t.ID == "" || len(t.SecretHash) == 0 || t.Creator == "" || t.Expires.IsZero() {
		return errors.New("put pull token: empty id, secret hash, creator or expiry")
	}
	created := t.Created
	if created.IsZero() {
		created = time.Now()
	}
	repos, err := encodeJSON(t.Repositories, 1)
	if err != nil {
		return fmt.Errorf("put pull token %s: %w", t.ID, err)
	}
	err = s.versioned(ctx, putPullToken, bumpPullTokensVersion, store.ErrExists, nil, t.ID, t.Name, t.Description, repos,
		t.Creator, t.CreatorIncarnation, t.SecretHash, nanos(created), nanos(t.Expires))
	if err != nil {
		return fmt.Errorf("put pull token %s: %w", t.ID, err)
	}
	return nil
}

// GetPullToken implements store.PullTokens. It always reads the database:
// a token revoked by another replica must be gone here at once.
func (s *Store) GetPullToken(ctx context.Context, id string) (*store.PullToken, error) {
	t, err := scanPullToken(s.run(ctx, nil, getPullToken).QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("get pull token %s: %w", id, notFound(err))
	}
	return &t, nil
}

// ListPullTokens implements store.PullTokens.
func (s *Store) ListPullTokens(ctx context.Context) ([]store.PullToken, error) {
	out, err := collect(ctx, s.run(ctx, nil, listPullTokens), scanPullToken)
	if err != nil {
		return nil, fmt.Errorf("list pull tokens: %w", err)
	}
	return out, nil
}

// DeletePullToken implements store.PullTokens.
func (s *Store) DeletePullToken(ctx context.Context, id string) error {
	err := s.versioned(ctx, deletePullToken, bumpPullTokensVersion, store.ErrNotFound, nil, id)
	if err != nil {
		return fmt.Errorf("delete pull token %s: %w", id, err)
	}
	return nil
}

// TouchPullToken implements store.PullTokens: one statement, no version
// bump (last use changes nothing any replica caches).
func (s *Store) TouchPullToken(ctx context.Context, id string, at time.Time) error {
	if _, err := s.run(ctx, nil, touchPullToken).ExecContext(ctx, id, nanos(at)); err != nil {
		return fmt.Errorf("touch pull token %s: %w", id, err)
	}
	return nil
}

// PullTokensVersion implements store.PullTokens. It reads the database
// every time: another replica may have revoked a token.
func (s *Store) PullTokensVersion(ctx context.Context) (int64, error) {
	v, err := s.version(ctx, pullTokensVersion)
	if err != nil {
		return 0, fmt.Errorf("pull tokens version: %w", err)
	}
	return v, nil
}

// scanPullToken scans a row of QGetPullToken's columns.
func scanPullToken(r scanner) (store.PullToken, error) {
	var t store.PullToken
	var repos string
	var created, expires, lastUsed int64
	err := r.Scan(&t.ID, &t.Name, &t.Description, &repos, &t.Creator, &t.CreatorIncarnation,
		&t.SecretHash, &created, &expires, &lastUsed)
	if err != nil {
		return store.PullToken{}, err
	}
	if err := decodeJSON(repos, &t.Repositories); err != nil {
		return store.PullToken{}, fmt.Errorf("repositories of pull token %s: %w", t.ID, err)
	}
	t.Created, t.Expires = fromNanos(created), fromNanos(expires)
	if lastUsed != 0 {
		t.LastUsed = fromNanos(lastUsed)
	}
	return t, nil
}
