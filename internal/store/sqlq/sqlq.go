// Package sqlq holds the SQL that the SQLite and PostgreSQL metadata
// backends both run, word for word: $n placeholders, ON CONFLICT upserts,
// EXISTS and the same schema (see each backend's migrations). A query that
// must differ (PostgreSQL's row locks for concurrent replicas, SQLite's
// single-writer shortcuts) stays in its backend.
package sqlq

// Queries of the store.
const (
	// Reads: one indexed lookup each.
	BlobSize = `SELECT b.size FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE r.name = $1 AND b.digest = $2`

	BlobRepositories = `SELECT r.name FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE b.digest = $1
ORDER BY r.name
LIMIT $2`

	BlobReferenced = `SELECT EXISTS (SELECT 1 FROM blob_links WHERE digest = $1)`

	GetManifest = `SELECT m.media_type, m.artifact_type, m.subject, m.size, m.content,
       m.annotations, m.blobs, m.children, m.created
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.digest = $2`

	ResolveTag = `SELECT t.digest FROM tags t
JOIN repositories r ON r.id = t.repo_id
WHERE r.name = $1 AND t.name = $2`

	// Tags yields one row with a NULL name when the repository exists but
	// has no tags after $2, and no row when it does not exist: one query
	// tells "empty" from "unknown".
	Tags = `SELECT t.name FROM repositories r
LEFT JOIN tags t ON t.repo_id = r.id AND t.name > $2
WHERE r.name = $1
ORDER BY t.name
LIMIT $3`

	Repositories = `SELECT r.name FROM repositories r
WHERE r.name > $1
  AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
       OR EXISTS (SELECT 1 FROM blob_links b WHERE b.repo_id = r.id))
ORDER BY r.name
LIMIT $2`

	Referrers = `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.subject = $2
ORDER BY m.digest`

	ReferrersByType = `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.subject = $2 AND m.artifact_type = $3
ORDER BY m.digest`

	GetUpload = `SELECT repository, owner, started, updated FROM uploads WHERE id = $1`

	ExpiredUploads = `SELECT id, repository, owner, started, updated FROM uploads
WHERE updated < $1
ORDER BY updated, id`

	// Open uploads of an owner and of a repository, for UploadCaps.
	CountUploads = `SELECT (SELECT count(*) FROM uploads WHERE owner = $1),
       (SELECT count(*) FROM uploads WHERE repository = $2)`

	// The table holds a handful of rows: a scan is the right plan.
	SigningKeys = `SELECT id, algorithm, private_key, kek, created, retired FROM signing_keys
ORDER BY created, id`

	GetIdentity = `SELECT document, created, created_by, incarnation FROM identities WHERE id = $1`

	ListIdentities = `SELECT id, document, created, created_by, incarnation FROM identities ORDER BY id`

	IdentitiesVersion = `SELECT version FROM identities_version WHERE singleton = 1`

	// Writes.
	RepoID = `SELECT id FROM repositories WHERE name = $1`

	// Linking again keeps the size but refreshes touched.
	LinkBlob = `INSERT INTO blob_links (repo_id, digest, size, touched) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, digest) DO UPDATE SET touched = excluded.touched`

	TombstoneSince = `SELECT since FROM blob_tombstones WHERE digest = $1`

	RemoveTombstone = `DELETE FROM blob_tombstones WHERE digest = $1`

	// No row changed means the blob is not linked in the repository.
	TouchBlob = `UPDATE blob_links SET touched = $3 WHERE repo_id = $1 AND digest = $2`

	InsertRef = `INSERT INTO manifest_refs (repo_id, manifest, kind, ref) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`

	UnlinkBlob = `DELETE FROM blob_links
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND digest = $2`

	// Same digest, same bytes: a second put refreshes what was parsed from
	// them but keeps the original creation time.
	PutManifest = `INSERT INTO manifests
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

	DeleteManifest = `DELETE FROM manifests WHERE repo_id = $1 AND digest = $2`

	DeleteTag = `DELETE FROM tags
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2`

	CreateUpload = `INSERT INTO uploads (id, repository, owner, started, updated) VALUES ($1, $2, $3, $4, $5)`

	TouchUpload = `UPDATE uploads SET updated = $2 WHERE id = $1`

	DeleteUpload = `DELETE FROM uploads WHERE id = $1`

	PutSigningKey = `INSERT INTO signing_keys (id, algorithm, private_key, kek, created, retired)
VALUES ($1, $2, $3, $4, $5, $6)`

	// Compare-and-swap on the KEK: replicas re-wrapping at once change a
	// row once.
	RewrapSigningKey = `UPDATE signing_keys SET private_key = $4, kek = $3
WHERE id = $1 AND kek = $2`

	// Matches the row even when it is already retired, so that "no row
	// changed" means "no such key"; the first retirement time stays.
	RetireSigningKey = `UPDATE signing_keys
SET retired = CASE WHEN retired = 0 THEN $2 ELSE retired END
WHERE id = $1`

	DeleteSigningKey = `DELETE FROM signing_keys WHERE id = $1`

	// Create-only: "no row changed" means the id is taken.
	PutIdentity = `INSERT INTO identities (id, document, created, created_by, incarnation)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING`

	DeleteIdentity = `DELETE FROM identities WHERE id = $1`

	BumpIdentitiesVersion = `UPDATE identities_version SET version = version + 1 WHERE singleton = 1`
)

// Queries of registry gc (store.Collector). They run rarely, so they are
// not prepared. A manifest is collectable when no tag points at it, no
// manifest of its repository lists it as a child (manifest_refs kind 1)
// and its subject is not stored in the repository; a blob link when no
// manifest of the repository lists the blob (kind 0).
const (
	ManifestCandidates = `SELECT r.name, m.digest, m.size
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE m.created < $1 AND (r.name, m.digest) > ($2, $3)
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs c WHERE c.repo_id = m.repo_id AND c.ref = m.digest AND c.kind = 1)
  AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject)
ORDER BY r.name, m.digest
LIMIT $4`

	CollectManifest = `DELETE FROM manifests
WHERE repo_id = $1 AND digest = $2 AND created < $3
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = $1 AND t.digest = $2)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs c WHERE c.repo_id = $1 AND c.ref = $2 AND c.kind = 1)
  AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = $1 AND s.digest = manifests.subject)`

	BlobLinkCandidates = `SELECT r.name, b.digest, b.size
FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE b.touched < $1 AND (r.name, b.digest) > ($2, $3)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.repo_id = b.repo_id AND x.ref = b.digest AND x.kind = 0)
ORDER BY r.name, b.digest
LIMIT $4`

	CollectBlobLink = `DELETE FROM blob_links
WHERE repo_id = $1 AND digest = $2 AND touched < $3
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.repo_id = $1 AND x.ref = $2 AND x.kind = 0)`

	// Only an unlinked blob without a tombstone gets one.
	TombstoneBlob = `INSERT INTO blob_tombstones (digest, since)
SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM blob_links WHERE digest = $1)
ON CONFLICT (digest) DO NOTHING`
)
