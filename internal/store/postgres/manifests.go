package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// PutManifest implements store.Manifests. The manifest, its repository (on
// first use) and the tag are written in one transaction: on error nothing
// is, and a tag never names a manifest that is not committed. Replicas
// moving the same tag at once are ordered by the tag's row lock, so each
// sees as previous the digest it replaced. Putting a manifest the
// repository already holds keeps its creation time and refreshes the
// other fields. A zero m.Created means now.
func (db *DB) PutManifest(ctx context.Context, m *store.Manifest, tag string) (digest.Digest, error) {
	now := time.Now()
	row, err := rowcodec.EncodeManifest(m, now)
	if err != nil {
		return "", err
	}
	annotations, blobs, children, created, content := row.Annotations, row.Blobs, row.Children, row.Created, row.Content

	var previous string
	err = db.write(ctx, func(tx pgx.Tx) error {
		previous = ""
		id, err := ensureRepo(ctx, tx, m.Repository)
		if err != nil {
			return err
		}
		// Touch and lock what m references before m itself, as
		// CollectManifest locks a manifest before looking for referrers.
		if err := checkRefs(ctx, tx, id, m, rowcodec.Nanos(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlq.PutManifest,
			id, m.Digest.String(), m.MediaType, m.ArtifactType, m.Subject.String(),
			m.Size, content, annotations, blobs, children, rowcodec.Nanos(created)); err != nil {
			return err
		}
		if err := insertRefs(ctx, tx, id, m); err != nil {
			return retryOnForeignKey(err)
		}
		if tag == "" {
			return nil
		}
		previous, err = moveTag(ctx, tx, id, tag, m.Digest.String(), rowcodec.Nanos(now))
		if err != nil {
			return retryOnForeignKey(fmt.Errorf("tag %s: %w", tag, err))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("put manifest %s@%s: %w", m.Repository, m.Digest, err)
	}
	return digest.Digest(previous), nil
}

// checkRefs touches the links of m's blobs and share-locks m's children,
// failing with store.ErrBlobUnknown if one is missing. The locks make a
// concurrent CollectBlobLink or CollectManifest wait for this transaction,
// and see the manifest it stores, or this one see their deletion.
func checkRefs(ctx context.Context, tx pgx.Tx, repoID int64, m *store.Manifest, now int64) error {
	// In digest order, so that two pushes sharing blobs lock them in the
	// same order and do not deadlock.
	for _, d := range slices.Sorted(slices.Values(m.Blobs)) {
		res, err := tx.Exec(ctx, sqlq.TouchBlob, repoID, d.String(), now)
		if err != nil {
			return fmt.Errorf("touch blob %s: %w", d, err)
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("blob %s: %w", d, store.ErrBlobUnknown)
		}
	}
	for _, d := range m.Children {
		var one int
		err := tx.QueryRow(ctx, qLockChild, repoID, d.String()).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("manifest %s: %w", d, store.ErrBlobUnknown)
		}
		if err != nil {
			return fmt.Errorf("child manifest %s: %w", d, err)
		}
	}
	return nil
}

// insertRefs records m's blobs and children in manifest_refs.
func insertRefs(ctx context.Context, tx pgx.Tx, repoID int64, m *store.Manifest) error {
	for kind, ds := range [][]digest.Digest{refBlob: m.Blobs, refChild: m.Children} {
		for _, d := range ds {
			if _, err := tx.Exec(ctx, sqlq.InsertRef, repoID, m.Digest.String(), kind, d.String()); err != nil {
				return fmt.Errorf("record reference %s: %w", d, err)
			}
		}
	}
	return nil
}

// moveTag points the tag at dgst and returns the digest it pointed at
// before ("" if it did not exist). The tag's row stays locked until tx
// ends, so no other transaction can move it in between.
func moveTag(ctx context.Context, tx pgx.Tx, repoID int64, tag, dgst string, updated int64) (string, error) {
	// Each pass either finds the row (and locks it) or inserts it; only a
	// concurrent insert or delete of the same tag sends it round again.
	for range maxAttempts {
		var previous string
		err := tx.QueryRow(ctx, qLockTag, repoID, tag).Scan(&previous)
		switch {
		case err == nil:
			if _, err := tx.Exec(ctx, qUpdateTag, repoID, tag, dgst, updated); err != nil {
				return "", err
			}
			return previous, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return "", err
		}
		res, err := tx.Exec(ctx, qInsertTag, repoID, tag, dgst, updated)
		if err != nil {
			return "", err
		}
		if res.RowsAffected() == 1 {
			return "", nil
		}
	}
	return "", errors.New("tag changed concurrently too often")
}

// GetManifest implements store.Manifests.
func (db *DB) GetManifest(ctx context.Context, repo string, dgst digest.Digest) (*store.Manifest, error) {
	m, err := scanManifest(db.pool.QueryRow(ctx, sqlq.GetManifest, repo, dgst.String()), repo, dgst)
	if err != nil {
		return nil, fmt.Errorf("get manifest %s@%s: %w", repo, dgst, notFound(err))
	}
	return m, nil
}

// GetTaggedManifest implements store.Manifests in one query, a join of
// the tag and its manifest, so that a pull by tag is one round trip.
func (db *DB) GetTaggedManifest(ctx context.Context, repo, tag string) (*store.Manifest, error) {
	var d string
	m, err := scanManifest(db.pool.QueryRow(ctx, qGetTaggedManifest, repo, tag), repo, "", &d)
	if err != nil {
		return nil, fmt.Errorf("get manifest %s:%s: %w", repo, tag, notFound(err))
	}
	m.Digest = digest.Digest(d)
	return m, nil
}

// scanManifest reads a manifest row of sqlq.GetManifest's columns, after
// any leading columns in pre.
func scanManifest(row pgx.Row, repo string, dgst digest.Digest, pre ...any) (*store.Manifest, error) {
	m := &store.Manifest{Repository: repo, Digest: dgst}
	var subject, annotations, blobs, children string
	var created int64
	dest := append(pre, &m.MediaType, &m.ArtifactType, &subject, &m.Size, &m.Content,
		&annotations, &blobs, &children, &created)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := rowcodec.DecodeJSON(annotations, &m.Annotations); err != nil {
		return nil, err
	}
	m.Blobs = rowcodec.DecodeDigests(blobs)
	m.Children = rowcodec.DecodeDigests(children)
	m.Subject = digest.Digest(subject)
	m.Created = rowcodec.FromNanos(created)
	return m, nil
}

// ResolveTag implements store.Manifests.
func (db *DB) ResolveTag(ctx context.Context, repo, tag string) (digest.Digest, error) {
	var d string
	if err := db.pool.QueryRow(ctx, sqlq.ResolveTag, repo, tag).Scan(&d); err != nil {
		return "", fmt.Errorf("resolve tag %s:%s: %w", repo, tag, notFound(err))
	}
	return digest.Digest(d), nil
}

// DeleteManifest implements store.Manifests. The manifest and its tags go
// in one transaction, which locks the manifest first so that no replica
// can point a tag at it meanwhile.
func (db *DB) DeleteManifest(ctx context.Context, repo string, dgst digest.Digest) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		id, err := repoID(ctx, tx, repo)
		if err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, qLockManifest, id, dgst.String()).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := tx.Exec(ctx, qDeleteManifestTags, id, dgst.String()); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, sqlq.DeleteManifest, id, dgst.String())
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("delete manifest %s@%s: %w", repo, dgst, err)
	}
	return nil
}

// DeleteTag implements store.Manifests. The manifest stays.
func (db *DB) DeleteTag(ctx context.Context, repo, tag string) error {
	res, err := db.pool.Exec(ctx, sqlq.DeleteTag, repo, tag)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("delete tag %s:%s: %w", repo, tag, err)
	}
	return nil
}
