package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// LinkBlob implements store.Blobs. It creates the repository on first use.
// Linking again keeps the size recorded first (a digest has one size) and
// refreshes the link's touched time. It is ordered against TombstoneBlob
// of the same digest (the single writer, or Dialect.LockBlob), so that one
// runs wholly before or after the other. Each of also runs in the same
// transaction after the link (see store.TxFunc).
func (s *Store) LinkBlob(ctx context.Context, repo string, dgst digest.Digest, size int64, also ...store.TxFunc) error {
	if repo == "" || dgst == "" {
		return errors.New("link blob: empty repository or digest")
	}
	err := s.write(ctx, func(tx Conn) error {
		if err := s.lockBlob(ctx, tx, dgst); err != nil {
			return err
		}
		now := time.Now()
		var since int64
		err := s.run(ctx, tx, tombstoneSince).QueryRowContext(ctx, dgst.String()).Scan(&since)
		switch {
		case err == nil && fromNanos(since).After(now.Add(-store.TombstoneTTL)):
			return store.ErrBlobDeleted
		case err == nil: // left by a collector that died
			if _, err := s.run(ctx, tx, removeTombstone).ExecContext(ctx, dgst.String()); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// Into an existing repository, one statement; a new one is
		// created first, and the same statement then finds it.
		link := func() (int64, error) {
			return affected(s.run(ctx, tx, linkBlob).ExecContext(ctx, repo, dgst.String(), size, nanos(now)))
		}
		n, err := link()
		if err == nil && n == 0 {
			if _, err = s.ensureRepo(ctx, tx, repo); err == nil {
				_, err = link()
			}
		}
		if err != nil {
			return err
		}
		return s.runAlso(ctx, tx, also, store.Written{})
	})
	if err != nil {
		return fmt.Errorf("link blob %s in %s: %w", dgst, repo, err)
	}
	return nil
}

func (s *Store) lockBlob(ctx context.Context, tx Conn, dgst digest.Digest) error {
	if s.d.LockBlob == nil {
		return nil
	}
	if err := s.d.LockBlob(ctx, tx, dgst.String()); err != nil {
		return fmt.Errorf("lock blob: %w", err)
	}
	return nil
}

// BlobSize implements store.Blobs.
func (s *Store) BlobSize(ctx context.Context, repo string, dgst digest.Digest) (int64, error) {
	s.cacheCheck(ctx)
	if n, ok := s.cache.blob(repo, dgst); ok {
		return n, nil
	}
	gen := s.cache.generation()
	var size int64
	lctx, err := s.lookupCtx(ctx)
	if err == nil {
		err = s.run(lctx, nil, blobSize).QueryRowContext(lctx, repo, dgst.String()).Scan(&size)
	}
	if err != nil {
		return 0, fmt.Errorf("blob %s in %s: %w", dgst, repo, notFound(err))
	}
	s.cache.putBlob(gen, repo, dgst, size)
	return size, nil
}

// BlobSizes implements store.Blobs: what the read cache holds from it,
// the rest with one query for up to rowsPerStatement digests (one round
// trip where BlobSize each would cost one a blob).
func (s *Store) BlobSizes(ctx context.Context, repo string, dgsts []digest.Digest) (map[digest.Digest]int64, error) {
	s.cacheCheck(ctx)
	sizes := make(map[digest.Digest]int64, len(dgsts))
	var ask []digest.Digest
	for _, d := range dgsts {
		if n, ok := s.cache.blob(repo, d); ok {
			sizes[d] = n
		} else if !slices.Contains(ask, d) {
			ask = append(ask, d)
		}
	}
	gen := s.cache.generation()
	for chunk := range slices.Chunk(ask, rowsPerStatement) {
		args := digestArgs(chunk, repo)
		q := `SELECT b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = ` +
			param(s.d, 1) + ` AND b.digest IN (` + params(s.d, 2, len(chunk)) + `)`
		err := func() error {
			rows, err := s.r.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var d string
				var n int64
				if err := rows.Scan(&d, &n); err != nil {
					return err
				}
				sizes[digest.Digest(d)] = n
				s.cache.putBlob(gen, repo, digest.Digest(d), n)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("blobs in %s: %w", repo, err)
		}
	}
	return sizes, nil
}

// UnlinkBlob implements store.Blobs. The repository keeps existing.
func (s *Store) UnlinkBlob(ctx context.Context, repo string, dgst digest.Digest) error {
	defer s.cache.invalidate()
	res, err := s.run(ctx, nil, unlinkBlob).ExecContext(ctx, repo, dgst.String())
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("unlink blob %s from %s: %w", dgst, repo, err)
	}
	return nil
}

// BlobRepositories implements store.Blobs. n <= 0 returns an empty list.
func (s *Store) BlobRepositories(ctx context.Context, dgst digest.Digest, n int) ([]string, error) {
	if n <= 0 {
		return []string{}, nil
	}
	names, err := collect(ctx, s.run(ctx, nil, blobRepositories), scanString, dgst.String(), n)
	if err != nil {
		return nil, fmt.Errorf("repositories holding %s: %w", dgst, err)
	}
	return names, nil
}

// BlobReferenced implements store.Blobs.
func (s *Store) BlobReferenced(ctx context.Context, dgst digest.Digest) (bool, error) {
	var ok bool
	if err := s.run(ctx, nil, blobReferenced).QueryRowContext(ctx, dgst.String()).Scan(&ok); err != nil {
		return false, fmt.Errorf("blob %s referenced: %w", dgst, err)
	}
	return ok, nil
}

// ensureRepo returns the id of repository name, creating it if needed. It
// is safe against another writer creating the same name at once: the
// insert then yields nothing and the lookup after it finds their row.
func (s *Store) ensureRepo(ctx context.Context, tx Conn, name string) (int64, error) {
	var id int64
	err := s.run(ctx, tx, repoID).QueryRowContext(ctx, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.run(ctx, tx, insertRepo).QueryRowContext(ctx, name).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = s.run(ctx, tx, repoID).QueryRowContext(ctx, name).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("repository %s: %w", name, err)
	}
	return id, nil
}

// existingRepo returns the id of an existing repository, or
// store.ErrNotFound.
func (s *Store) existingRepo(ctx context.Context, tx Conn, name string) (int64, error) {
	var id int64
	if err := s.run(ctx, tx, repoID).QueryRowContext(ctx, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("repository %s: %w", name, notFound(err))
	}
	return id, nil
}
