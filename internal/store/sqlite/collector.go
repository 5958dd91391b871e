package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

var _ store.Collector = (*Store)(nil)

// ManifestCandidates implements store.Collector.
func (s *Store) ManifestCandidates(ctx context.Context, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	cs, err := s.candidates(ctx, sqlq.ManifestCandidates, before, after, n)
	if err != nil {
		return nil, fmt.Errorf("manifest candidates: %w", err)
	}
	return cs, nil
}

// BlobLinkCandidates implements store.Collector.
func (s *Store) BlobLinkCandidates(ctx context.Context, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	cs, err := s.candidates(ctx, sqlq.BlobLinkCandidates, before, after, n)
	if err != nil {
		return nil, fmt.Errorf("blob link candidates: %w", err)
	}
	return cs, nil
}

func (s *Store) candidates(ctx context.Context, query string, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	rows, err := s.r.QueryContext(ctx, query, rowcodec.Nanos(before), after.Repository, after.Digest.String(), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Candidate{}
	for rows.Next() {
		var c store.Candidate
		if err := rows.Scan(&c.Repository, &c.Digest, &c.Size); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CollectManifest implements store.Collector. The single writer orders it
// against every PutManifest, so the checks and the delete are atomic.
func (s *Store) CollectManifest(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted, err := s.collect(ctx, sqlq.CollectManifest, repo, dgst, before)
	if err != nil {
		return false, fmt.Errorf("collect manifest %s@%s: %w", repo, dgst, err)
	}
	return deleted, nil
}

// CollectBlobLink implements store.Collector.
func (s *Store) CollectBlobLink(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted, err := s.collect(ctx, sqlq.CollectBlobLink, repo, dgst, before)
	if err != nil {
		return false, fmt.Errorf("collect blob link %s@%s: %w", repo, dgst, err)
	}
	return deleted, nil
}

func (s *Store) collect(ctx context.Context, query, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := s.repoID(ctx, tx, repo)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, query, id, dgst.String(), rowcodec.Nanos(before))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = n == 1
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return deleted, err
}

// TombstoneBlob implements store.Collector. The single writer orders it
// against LinkBlob.
func (s *Store) TombstoneBlob(ctx context.Context, dgst digest.Digest) (bool, error) {
	ok := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, sqlq.TombstoneBlob, dgst.String(), rowcodec.Nanos(time.Now()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("tombstone blob %s: %w", dgst, err)
	}
	return ok, nil
}

// RemoveTombstone implements store.Collector.
func (s *Store) RemoveTombstone(ctx context.Context, dgst digest.Digest) error {
	defer s.cache.invalidate()
	if _, err := s.q.removeTombstone.ExecContext(ctx, dgst.String()); err != nil {
		return fmt.Errorf("remove tombstone of %s: %w", dgst, err)
	}
	return nil
}
