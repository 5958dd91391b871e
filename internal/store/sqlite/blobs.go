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
)

// LinkBlob implements store.Blobs. It creates the repository on first use.
// Linking again keeps the size recorded first (a digest has one size) and
// refreshes the link's touched time. The writer's lock orders it against
// TombstoneBlob.
func (s *Store) LinkBlob(ctx context.Context, repo string, dgst digest.Digest, size int64) error {
	if repo == "" || dgst == "" {
		return errors.New("link blob: empty repository or digest")
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		var since int64
		err := tx.StmtContext(ctx, s.q.tombstoneSince).QueryRowContext(ctx, dgst.String()).Scan(&since)
		switch {
		case err == nil && rowcodec.FromNanos(since).After(now.Add(-store.TombstoneTTL)):
			return store.ErrBlobDeleted
		case err == nil: // left by a collector that died
			if _, err := tx.StmtContext(ctx, s.q.removeTombstone).ExecContext(ctx, dgst.String()); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		id, err := s.ensureRepo(ctx, tx, repo)
		if err != nil {
			return err
		}
		_, err = tx.StmtContext(ctx, s.q.linkBlob).ExecContext(ctx, id, dgst.String(), size, rowcodec.Nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("link blob %s in %s: %w", dgst, repo, err)
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
	lctx, err := lookupCtx(ctx)
	if err == nil {
		err = s.q.blobSize.QueryRowContext(lctx, repo, dgst.String()).Scan(&size)
	}
	if err != nil {
		return 0, fmt.Errorf("blob %s in %s: %w", dgst, repo, notFound(err))
	}
	s.cache.putBlob(gen, repo, dgst, size)
	return size, nil
}

// UnlinkBlob implements store.Blobs. The repository keeps existing.
func (s *Store) UnlinkBlob(ctx context.Context, repo string, dgst digest.Digest) error {
	defer s.cache.invalidate()
	res, err := s.q.unlinkBlob.ExecContext(ctx, repo, dgst.String())
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
	names, err := s.queryStrings(ctx, s.q.blobRepositories, dgst.String(), n)
	if err != nil {
		return nil, fmt.Errorf("repositories holding %s: %w", dgst, err)
	}
	return names, nil
}

// BlobReferenced implements store.Blobs.
func (s *Store) BlobReferenced(ctx context.Context, dgst digest.Digest) (bool, error) {
	var ok bool
	if err := s.q.blobReferenced.QueryRowContext(ctx, dgst.String()).Scan(&ok); err != nil {
		return false, fmt.Errorf("blob %s referenced: %w", dgst, err)
	}
	return ok, nil
}

// ensureRepo returns the id of repository name, creating it if needed.
// The writer holds the database's write lock, so nobody can insert the
// same name between the lookup and the insert.
func (s *Store) ensureRepo(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.StmtContext(ctx, s.q.repoID).QueryRowContext(ctx, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.StmtContext(ctx, s.q.insertRepo).QueryRowContext(ctx, name).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("repository %s: %w", name, err)
	}
	return id, nil
}

// repoID returns the id of an existing repository, or store.ErrNotFound.
func (s *Store) repoID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	if err := tx.StmtContext(ctx, s.q.repoID).QueryRowContext(ctx, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("repository %s: %w", name, notFound(err))
	}
	return id, nil
}

// queryStrings runs a query that returns one text column.
func (s *Store) queryStrings(ctx context.Context, st *sql.Stmt, args ...any) ([]string, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// affectedOne returns store.ErrNotFound when a statement changed no row.
func affectedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
