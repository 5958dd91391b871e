package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// blobLockKey is the first key of the advisory lock LinkBlob and
// TombstoneBlob take on a digest ("blob"); the second is the digest's hash.
const blobLockKey int32 = 0x626c6f62

// LinkBlob implements store.Blobs. It creates the repository on first use.
// Linking again keeps the size recorded first (a digest has one size) and
// refreshes the link's touched time. It holds the digest's advisory lock,
// so a TombstoneBlob of the same digest runs wholly before or after it.
func (db *DB) LinkBlob(ctx context.Context, repo string, dgst digest.Digest, size int64) error {
	if repo == "" || dgst == "" {
		return errors.New("link blob: empty repository or digest")
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, qLockBlobDigest, blobLockKey, dgst.String()); err != nil {
			return err
		}
		now := time.Now()
		var since int64
		err := tx.QueryRow(ctx, sqlq.TombstoneSince, dgst.String()).Scan(&since)
		switch {
		case err == nil && rowcodec.FromNanos(since).After(now.Add(-store.TombstoneTTL)):
			return store.ErrBlobDeleted
		case err == nil: // left by a collector that died
			if _, err := tx.Exec(ctx, sqlq.RemoveTombstone, dgst.String()); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		id, err := ensureRepo(ctx, tx, repo)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlq.LinkBlob, id, dgst.String(), size, rowcodec.Nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("link blob %s in %s: %w", dgst, repo, err)
	}
	return nil
}

// BlobSize implements store.Blobs.
func (db *DB) BlobSize(ctx context.Context, repo string, dgst digest.Digest) (int64, error) {
	var size int64
	if err := db.pool.QueryRow(ctx, sqlq.BlobSize, repo, dgst.String()).Scan(&size); err != nil {
		return 0, fmt.Errorf("blob %s in %s: %w", dgst, repo, notFound(err))
	}
	return size, nil
}

// UnlinkBlob implements store.Blobs. The repository keeps existing.
func (db *DB) UnlinkBlob(ctx context.Context, repo string, dgst digest.Digest) error {
	tag, err := db.pool.Exec(ctx, sqlq.UnlinkBlob, repo, dgst.String())
	if err == nil {
		err = affectedOne(tag)
	}
	if err != nil {
		return fmt.Errorf("unlink blob %s from %s: %w", dgst, repo, err)
	}
	return nil
}

// BlobRepositories implements store.Blobs. n <= 0 returns an empty list.
func (db *DB) BlobRepositories(ctx context.Context, dgst digest.Digest, n int) ([]string, error) {
	if n <= 0 {
		return []string{}, nil
	}
	names, err := db.queryStrings(ctx, sqlq.BlobRepositories, dgst.String(), n)
	if err != nil {
		return nil, fmt.Errorf("repositories holding %s: %w", dgst, err)
	}
	return names, nil
}

// BlobReferenced implements store.Blobs.
func (db *DB) BlobReferenced(ctx context.Context, dgst digest.Digest) (bool, error) {
	var ok bool
	if err := db.pool.QueryRow(ctx, sqlq.BlobReferenced, dgst.String()).Scan(&ok); err != nil {
		return false, fmt.Errorf("blob %s referenced: %w", dgst, err)
	}
	return ok, nil
}

// ensureRepo returns the id of repository name, creating it if needed. It
// is safe against another replica creating the same name at once: the
// insert then yields nothing and the lookup after it finds their row.
func ensureRepo(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, sqlq.RepoID, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, qInsertRepo, name).Scan(&id)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, sqlq.RepoID, name).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("repository %s: %w", name, err)
	}
	return id, nil
}

// repoID returns the id of an existing repository, or store.ErrNotFound.
func repoID(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, sqlq.RepoID, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("repository %s: %w", name, notFound(err))
	}
	return id, nil
}

// queryStrings runs a query that returns one text column.
func (db *DB) queryStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
