package postgres

// The queries are the SQLite backend's where they can be (both use $n
// placeholders, ON CONFLICT upserts and EXISTS). They differ where several
// writers need it: repositories and tags are created with ON CONFLICT DO
// NOTHING and looked up again, and a tag is moved under a row lock so that
// the previous digest read is the one replaced. pgx prepares each query
// once per connection and caches it.
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

	qSigningKeys = `SELECT id, algorithm, private_key, created, retired FROM signing_keys
ORDER BY created, id`

	qGetIdentity = `SELECT document, created, created_by FROM identities WHERE id = $1`

	qListIdentities = `SELECT id, document, created, created_by FROM identities ORDER BY id`

	qIdentitiesVersion = `SELECT version FROM identities_version WHERE singleton = 1`

	// Writes.
	qRepoID = `SELECT id FROM repositories WHERE name = $1`

	// No row back means another transaction inserted the name first; it
	// has committed by then (ON CONFLICT waits for it), so qRepoID finds it.
	qInsertRepo = `INSERT INTO repositories (name) VALUES ($1)
ON CONFLICT (name) DO NOTHING
RETURNING id`

	// Linking again keeps the size but refreshes touched.
	qLinkBlob = `INSERT INTO blob_links (repo_id, digest, size, touched) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, digest) DO UPDATE SET touched = excluded.touched`

	// LinkBlob and TombstoneBlob of one digest serialize on this
	// transaction-scoped advisory lock: each reads what the other writes
	// (a tombstone, a link), which row locks alone would not order.
	qLockBlobDigest = `SELECT pg_advisory_xact_lock($1, hashtext($2))`

	qTombstoneSince = `SELECT since FROM blob_tombstones WHERE digest = $1`

	qRemoveTombstone = `DELETE FROM blob_tombstones WHERE digest = $1`

	// No row changed means the blob is not linked in the repository. The
	// row lock it takes orders it against CollectBlobLink's delete.
	qTouchBlob = `UPDATE blob_links SET touched = $3 WHERE repo_id = $1 AND digest = $2`

	// FOR SHARE orders it against CollectManifest's FOR UPDATE.
	qLockChild = `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR SHARE`

	qInsertRef = `INSERT INTO manifest_refs (repo_id, manifest, kind, ref) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`

	qUnlinkBlob = `DELETE FROM blob_links
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND digest = $2`

	// Same digest, same bytes: a second put refreshes what was parsed from
	// them but keeps the original creation time. Either way the row stays
	// locked until the transaction ends, so a concurrent DeleteManifest
	// cannot remove it under the tag about to point at it.
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

	// Moving a tag: lock the row and read what it points at, then update
	// it; if there is no row, insert one, and if another transaction
	// inserted it meanwhile (no row changed), start over with the lock.
	qLockTag = `SELECT digest FROM tags WHERE repo_id = $1 AND name = $2 FOR UPDATE`

	qUpdateTag = `UPDATE tags SET digest = $3, updated = $4 WHERE repo_id = $1 AND name = $2`

	qInsertTag = `INSERT INTO tags (repo_id, name, digest, updated) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, name) DO NOTHING`

	// DeleteManifest locks the manifest first, as PutManifest does, so the
	// two take their locks in the same order and no tag can come to point
	// at the manifest between deleting its tags and deleting it.
	qLockManifest = `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR UPDATE`

	qDeleteManifestTags = `DELETE FROM tags WHERE repo_id = $1 AND digest = $2`

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
