package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// ManifestCandidates implements store.Collector.
func (s *Store) ManifestCandidates(ctx context.Context, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	cs, err := s.candidates(ctx, manifestCandidates, before, after, n)
	if err != nil {
		return nil, fmt.Errorf("manifest candidates: %w", err)
	}
	return cs, nil
}

// BlobLinkCandidates implements store.Collector.
func (s *Store) BlobLinkCandidates(ctx context.Context, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	cs, err := s.candidates(ctx, blobLinkCandidates, before, after, n)
	if err != nil {
		return nil, fmt.Errorf("blob link candidates: %w", err)
	}
	return cs, nil
}

func (s *Store) candidates(ctx context.Context, q query, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	return collect(ctx, s.run(ctx, nil, q), func(r scanner) (store.Candidate, error) {
		var c store.Candidate
		var d string
		err := r.Scan(&c.Repository, &d, &c.Size)
		c.Digest = digest.Digest(d)
		return c, err
	}, nanos(before), after.Repository, after.Digest.String(), n)
}

// CollectManifest implements store.Collector. It locks the manifest row
// first (Dialect.ForUpdate; SQLite's single writer orders everything), as
// DeleteManifest does; PutManifest share-locks the children it lists and
// upserts (locks) its own row, so a concurrent push either commits first,
// and the delete's own snapshot (READ COMMITTED, taken after the lock)
// sees its tag or reference, or waits and then finds the manifest gone:
// re-inserted by the upsert, or ErrBlobUnknown for a child.
func (s *Store) CollectManifest(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted, err := s.collect(ctx, collectManifest, true, repo, dgst, before)
	if err != nil {
		return false, fmt.Errorf("collect manifest %s@%s: %w", repo, dgst, err)
	}
	return deleted, nil
}

// CollectBlobLink implements store.Collector. The delete locks the link
// row; a PutManifest touching it either commits first, and the delete
// re-checks the new touched time and keeps it, or finds it gone and fails
// with ErrBlobUnknown.
func (s *Store) CollectBlobLink(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted, err := s.collect(ctx, collectBlobLink, false, repo, dgst, before)
	if err != nil {
		return false, fmt.Errorf("collect blob link %s@%s: %w", repo, dgst, err)
	}
	return deleted, nil
}

// collect runs the conditional delete q of repo's dgst in a write
// transaction, after locking the manifest row when lock is set. A missing
// repository or manifest is not an error: nothing was deleted.
func (s *Store) collect(ctx context.Context, q query, lock bool, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted := false
	err := s.write(ctx, func(tx Conn) error {
		deleted = false
		id, err := s.existingRepo(ctx, tx, repo)
		if err != nil {
			return err
		}
		if lock {
			var one int
			if err := s.run(ctx, tx, lockManifest).QueryRowContext(ctx, id, dgst.String()).Scan(&one); err != nil {
				return notFound(err)
			}
		}
		n, err := affected(s.run(ctx, tx, q).ExecContext(ctx, id, dgst.String(), nanos(before)))
		deleted = n == 1
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return deleted, err
}

// TombstoneBlob implements store.Collector. It is ordered against LinkBlob
// of the same digest (see there).
func (s *Store) TombstoneBlob(ctx context.Context, dgst digest.Digest) (bool, error) {
	ok := false
	err := s.write(ctx, func(tx Conn) error {
		if err := s.lockBlob(ctx, tx, dgst); err != nil {
			return err
		}
		n, err := affected(s.run(ctx, tx, tombstoneBlob).ExecContext(ctx, dgst.String(), nanos(time.Now())))
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
	if _, err := s.run(ctx, nil, removeTombstone).ExecContext(ctx, dgst.String()); err != nil {
		return fmt.Errorf("remove tombstone of %s: %w", dgst, err)
	}
	return nil
}
