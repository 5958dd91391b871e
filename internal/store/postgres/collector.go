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

var _ store.Collector = (*DB)(nil)

// ManifestCandidates implements store.Collector.
func (db *DB) ManifestCandidates(ctx context.Context, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	cs, err := db.candidates(ctx, sqlq.ManifestCandidates, before, after, n)
	if err != nil {
		return nil, fmt.Errorf("manifest candidates: %w", err)
	}
	return cs, nil
}

// BlobLinkCandidates implements store.Collector.
func (db *DB) BlobLinkCandidates(ctx context.Context, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	cs, err := db.candidates(ctx, sqlq.BlobLinkCandidates, before, after, n)
	if err != nil {
		return nil, fmt.Errorf("blob link candidates: %w", err)
	}
	return cs, nil
}

func (db *DB) candidates(ctx context.Context, query string, before time.Time, after store.Candidate, n int) ([]store.Candidate, error) {
	rows, err := db.pool.Query(ctx, query, rowcodec.Nanos(before), after.Repository, after.Digest.String(), n)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Candidate, error) {
		var c store.Candidate
		var d string
		err := row.Scan(&c.Repository, &d, &c.Size)
		c.Digest = digest.Digest(d)
		return c, err
	})
	if out == nil {
		out = []store.Candidate{}
	}
	return out, err
}

// CollectManifest implements store.Collector. It locks the manifest row
// first, as DeleteManifest does; PutManifest share-locks the children it
// lists and upserts (locks) its own row, so a concurrent push either
// commits first, and the delete's own snapshot (READ COMMITTED, taken
// after the lock) sees its tag or reference, or waits and then finds the
// manifest gone: re-inserted by the upsert, or ErrBlobUnknown for a child.
func (db *DB) CollectManifest(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted := false
	err := db.write(ctx, func(tx pgx.Tx) error {
		deleted = false
		id, err := repoID(ctx, tx, repo)
		if err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, qLockManifest, id, dgst.String()).Scan(&one); err != nil {
			return notFound(err)
		}
		res, err := tx.Exec(ctx, sqlq.CollectManifest, id, dgst.String(), rowcodec.Nanos(before))
		deleted = err == nil && res.RowsAffected() == 1
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("collect manifest %s@%s: %w", repo, dgst, err)
	}
	return deleted, nil
}

// CollectBlobLink implements store.Collector. The delete locks the link
// row; a PutManifest touching it either commits first, and the delete
// re-checks the new touched time and keeps it, or finds it gone and fails
// with ErrBlobUnknown.
func (db *DB) CollectBlobLink(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error) {
	deleted := false
	err := db.write(ctx, func(tx pgx.Tx) error {
		deleted = false
		id, err := repoID(ctx, tx, repo)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, sqlq.CollectBlobLink, id, dgst.String(), rowcodec.Nanos(before))
		deleted = err == nil && res.RowsAffected() == 1
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("collect blob link %s@%s: %w", repo, dgst, err)
	}
	return deleted, nil
}

// TombstoneBlob implements store.Collector. It holds the digest's advisory
// lock, as LinkBlob does.
func (db *DB) TombstoneBlob(ctx context.Context, dgst digest.Digest) (bool, error) {
	ok := false
	err := db.write(ctx, func(tx pgx.Tx) error {
		ok = false
		if _, err := tx.Exec(ctx, qLockBlobDigest, blobLockKey, dgst.String()); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, sqlq.TombstoneBlob, dgst.String(), rowcodec.Nanos(time.Now()))
		ok = err == nil && res.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("tombstone blob %s: %w", dgst, err)
	}
	return ok, nil
}

// RemoveTombstone implements store.Collector.
func (db *DB) RemoveTombstone(ctx context.Context, dgst digest.Digest) error {
	if _, err := db.pool.Exec(ctx, sqlq.RemoveTombstone, dgst.String()); err != nil {
		return fmt.Errorf("remove tombstone of %s: %w", dgst, err)
	}
	return nil
}
