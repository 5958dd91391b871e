package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The queries use $n placeholders and standard SQL (ON CONFLICT upserts,
// EXISTS) so that a PostgreSQL backend can reuse them as they are.
const (
	// Reads: one indexed lookup each.
	qBlobSize = `SELECT b.size FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE r.name = $1 AND b.digest = $2`

	qBlobRepositories = `SELECT r.name FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE b.digest = $1
ORDER BY r.name
LIMIT $2`

	qBlobReferenced = `SELECT EXISTS (SELECT 1 FROM blob_links WHERE digest = $1)`

	qGetManifest = `SELECT m.media_type, m.artifact_type, m.subject, m.size, m.content,
       m.annotations, m.blobs, m.children, m.created
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.digest = $2`

	qResolveTag = `SELECT t.digest FROM tags t
JOIN repositories r ON r.id = t.repo_id
WHERE r.name = $1 AND t.name = $2`

	// qTags yields one row with a NULL name when the repository exists but
	// has no tags after $2, and no row when it does not exist: one query
	// tells "empty" from "unknown".
	qTags = `SELECT t.name FROM repositories r
LEFT JOIN tags t ON t.repo_id = r.id AND t.name > $2
WHERE r.name = $1
ORDER BY t.name
LIMIT $3`

	qRepositories = `SELECT r.name FROM repositories r
WHERE r.name > $1
  AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
       OR EXISTS (SELECT 1 FROM blob_links b WHERE b.repo_id = r.id))
ORDER BY r.name
LIMIT $2`

	qReferrers = `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.subject = $2
ORDER BY m.digest`

	qReferrersByType = `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.subject = $2 AND m.artifact_type = $3
ORDER BY m.digest`

	qGetUpload = `SELECT repository, started FROM uploads WHERE id = $1`

	qExpiredUploads = `SELECT id, repository, started FROM uploads
WHERE started < $1
ORDER BY started, id`

	// The table holds a handful of rows: a scan is the right plan.
	qSigningKeys = `SELECT id, algorithm, private_key, created, retired FROM signing_keys
ORDER BY created, id`

	qGetIdentity = `SELECT document, created, created_by FROM identities WHERE id = $1`

	qListIdentities = `SELECT id, document, created, created_by FROM identities ORDER BY id`

	qIdentitiesVersion = `SELECT version FROM identities_version WHERE singleton = 1`

	// Writes.
	qRepoID = `SELECT id FROM repositories WHERE name = $1`

	qInsertRepo = `INSERT INTO repositories (name) VALUES ($1) RETURNING id`

	// Linking again keeps the size but refreshes touched.
	qLinkBlob = `INSERT INTO blob_links (repo_id, digest, size, touched) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, digest) DO UPDATE SET touched = excluded.touched`

	qTombstoneSince = `SELECT since FROM blob_tombstones WHERE digest = $1`

	qRemoveTombstone = `DELETE FROM blob_tombstones WHERE digest = $1`

	// No row changed means the blob is not linked in the repository.
	qTouchBlob = `UPDATE blob_links SET touched = $3 WHERE repo_id = $1 AND digest = $2`

	qManifestExists = `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2`

	qInsertRef = `INSERT INTO manifest_refs (repo_id, manifest, kind, ref) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`

	qUnlinkBlob = `DELETE FROM blob_links
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND digest = $2`

	// Same digest, same bytes: a second put refreshes what was parsed from
	// them but keeps the original creation time.
	qPutManifest = `INSERT INTO manifests
    (repo_id, digest, media_type, artifact_type, subject, size, content,
     annotations, blobs, children, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (repo_id, digest) DO UPDATE SET
    media_type = excluded.media_type,
    artifact_type = excluded.artifact_type,
    subject = excluded.subject,
    annotations = excluded.annotations,
    blobs = excluded.blobs,
    children = excluded.children`

	qGetTag = `SELECT digest FROM tags WHERE repo_id = $1 AND name = $2`

	qPutTag = `INSERT INTO tags (repo_id, name, digest, updated) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, name) DO UPDATE SET
    digest = excluded.digest,
    updated = excluded.updated`

	// Without statistics SQLite would delete by scanning all of the
	// repository's tags; the subquery makes it use tags_digest.
	qDeleteManifestTags = `DELETE FROM tags
WHERE repo_id = $1 AND name IN (SELECT name FROM tags WHERE repo_id = $1 AND digest = $2)`

	qDeleteManifest = `DELETE FROM manifests WHERE repo_id = $1 AND digest = $2`

	qDeleteTag = `DELETE FROM tags
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2`

	qCreateUpload = `INSERT INTO uploads (id, repository, started) VALUES ($1, $2, $3)`

	qDeleteUpload = `DELETE FROM uploads WHERE id = $1`

	qPutSigningKey = `INSERT INTO signing_keys (id, algorithm, private_key, created, retired)
VALUES ($1, $2, $3, $4, $5)`

	// Matches the row even when it is already retired, so that "no row
	// changed" means "no such key"; the first retirement time stays.
	qRetireSigningKey = `UPDATE signing_keys
SET retired = CASE WHEN retired = 0 THEN $2 ELSE retired END
WHERE id = $1`

	qDeleteSigningKey = `DELETE FROM signing_keys WHERE id = $1`

	// Create-only: "no row changed" means the id is taken.
	qPutIdentity = `INSERT INTO identities (id, document, created, created_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO NOTHING`

	qDeleteIdentity = `DELETE FROM identities WHERE id = $1`

	qBumpIdentitiesVersion = `UPDATE identities_version SET version = version + 1 WHERE singleton = 1`
)

// statements are the queries, prepared once. Read statements belong to
// the reader pool (database/sql prepares them again on each new
// connection); write statements belong to the writer and are bound to a
// transaction with tx.StmtContext, which reuses the preparation.
type statements struct {
	all []*sql.Stmt

	blobSize, blobRepositories, blobReferenced *sql.Stmt
	getManifest, resolveTag                    *sql.Stmt
	tags, repositories                         *sql.Stmt
	referrers, referrersByType                 *sql.Stmt
	getUpload, expiredUploads                  *sql.Stmt
	signingKeys                                *sql.Stmt
	getIdentity, listIdentities                *sql.Stmt
	identitiesVersion                          *sql.Stmt

	repoID, insertRepo, linkBlob, unlinkBlob      *sql.Stmt
	tombstoneSince, removeTombstone               *sql.Stmt
	touchBlob, manifestExists, insertRef          *sql.Stmt
	putManifest, getTag, putTag                   *sql.Stmt
	deleteManifestTags, deleteManifest, deleteTag *sql.Stmt
	createUpload, deleteUpload                    *sql.Stmt
	putSigningKey, retireSigningKey               *sql.Stmt
	deleteSigningKey                              *sql.Stmt
	putIdentity, deleteIdentity                   *sql.Stmt
	bumpIdentitiesVersion                         *sql.Stmt
}

func prepare(ctx context.Context, r, w *sql.DB) (*statements, error) {
	q := &statements{}
	for _, p := range []struct {
		db    *sql.DB
		dst   **sql.Stmt
		query string
	}{
		{r, &q.blobSize, qBlobSize},
		{r, &q.blobRepositories, qBlobRepositories},
		{r, &q.blobReferenced, qBlobReferenced},
		{r, &q.getManifest, qGetManifest},
		{r, &q.resolveTag, qResolveTag},
		{r, &q.tags, qTags},
		{r, &q.repositories, qRepositories},
		{r, &q.referrers, qReferrers},
		{r, &q.referrersByType, qReferrersByType},
		{r, &q.getUpload, qGetUpload},
		{r, &q.expiredUploads, qExpiredUploads},
		{r, &q.signingKeys, qSigningKeys},
		{r, &q.getIdentity, qGetIdentity},
		{r, &q.listIdentities, qListIdentities},
		{r, &q.identitiesVersion, qIdentitiesVersion},
		{w, &q.repoID, qRepoID},
		{w, &q.insertRepo, qInsertRepo},
		{w, &q.linkBlob, qLinkBlob},
		{w, &q.unlinkBlob, qUnlinkBlob},
		{w, &q.tombstoneSince, qTombstoneSince},
		{w, &q.removeTombstone, qRemoveTombstone},
		{w, &q.touchBlob, qTouchBlob},
		{w, &q.manifestExists, qManifestExists},
		{w, &q.insertRef, qInsertRef},
		{w, &q.putManifest, qPutManifest},
		{w, &q.getTag, qGetTag},
		{w, &q.putTag, qPutTag},
		{w, &q.deleteManifestTags, qDeleteManifestTags},
		{w, &q.deleteManifest, qDeleteManifest},
		{w, &q.deleteTag, qDeleteTag},
		{w, &q.createUpload, qCreateUpload},
		{w, &q.deleteUpload, qDeleteUpload},
		{w, &q.putSigningKey, qPutSigningKey},
		{w, &q.retireSigningKey, qRetireSigningKey},
		{w, &q.deleteSigningKey, qDeleteSigningKey},
		{w, &q.putIdentity, qPutIdentity},
		{w, &q.deleteIdentity, qDeleteIdentity},
		{w, &q.bumpIdentitiesVersion, qBumpIdentitiesVersion},
	} {
		st, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", p.query, err), q.close())
		}
		*p.dst = st
		q.all = append(q.all, st)
	}
	return q, nil
}

func (q *statements) close() error {
	var errs []error
	for _, st := range q.all {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
