package postgres

// Garbage collection's queries, the same text as the SQLite backend's.
// They run rarely, so they are not prepared. A manifest is collectable
// when no tag points at it, no manifest of its repository lists it as a
// child (manifest_refs kind 1) and its subject is not stored in the
// repository; a blob link when no manifest of the repository lists the
// blob (kind 0).
const (
	qManifestCandidates = `SELECT r.name, m.digest, m.size
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE m.created < $1 AND (r.name, m.digest) > ($2, $3)
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs c WHERE c.repo_id = m.repo_id AND c.ref = m.digest AND c.kind = 1)
  AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject)
ORDER BY r.name, m.digest
LIMIT $4`

	qCollectManifest = `DELETE FROM manifests
WHERE repo_id = $1 AND digest = $2 AND created < $3
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = $1 AND t.digest = $2)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs c WHERE c.repo_id = $1 AND c.ref = $2 AND c.kind = 1)
  AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = $1 AND s.digest = manifests.subject)`

	qBlobLinkCandidates = `SELECT r.name, b.digest, b.size
FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE b.touched < $1 AND (r.name, b.digest) > ($2, $3)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.repo_id = b.repo_id AND x.ref = b.digest AND x.kind = 0)
ORDER BY r.name, b.digest
LIMIT $4`

	qCollectBlobLink = `DELETE FROM blob_links
WHERE repo_id = $1 AND digest = $2 AND touched < $3
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.repo_id = $1 AND x.ref = $2 AND x.kind = 0)`

	// Only an unlinked blob without a tombstone gets one.
	qTombstoneBlob = `INSERT INTO blob_tombstones (digest, since)
SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM blob_links WHERE digest = $1)
ON CONFLICT (digest) DO NOTHING`
)

// Kinds of manifest_refs rows.
const (
	refBlob  = 0
	refChild = 1
)
