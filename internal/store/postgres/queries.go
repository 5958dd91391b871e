package postgres

// The queries are the SQLite backend's where they can be (package sqlq).
// These differ because several writers need it: repositories and tags are
// created with ON CONFLICT DO NOTHING and looked up again, and a tag is
// moved under a row lock so that the previous digest read is the one
// replaced. pgx prepares each query once per connection and caches it.
const (
	// qGetTaggedManifest is sqlq.ResolveTag and sqlq.GetManifest in one
	// round trip: the digest, then GetManifest's columns.
	qGetTaggedManifest = `SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.size, m.content,
       m.annotations, m.blobs, m.children, m.created
FROM tags t
JOIN repositories r ON r.id = t.repo_id
JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
WHERE r.name = $1 AND t.name = $2`

	// No row back means another transaction inserted the name first; it
	// has committed by then (ON CONFLICT waits for it), so sqlq.RepoID finds it.
	qInsertRepo = `INSERT INTO repositories (name) VALUES ($1)
ON CONFLICT (name) DO NOTHING
RETURNING id`

	// LinkBlob and TombstoneBlob of one digest serialize on this
	// transaction-scoped advisory lock: each reads what the other writes
	// (a tombstone, a link), which row locks alone would not order.
	qLockBlobDigest = `SELECT pg_advisory_xact_lock($1, hashtext($2))`

	// FOR SHARE orders it against CollectManifest's FOR UPDATE.
	qLockChild = `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR SHARE`

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
)
