package sqlstore

// The SQL both databases run, word for word: $n placeholders, ON CONFLICT
// upserts, EXISTS and the same schema (see each backend's migrations).
// What must differ (row locks, a plan hint) comes from the Dialect.
const (
	// Reads: one indexed lookup each.
	QBlobSize = `SELECT b.size FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE r.name = $1 AND b.digest = $2`

	QBlobRepositories = `SELECT r.name FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE b.digest = $1
ORDER BY r.name
LIMIT $2`

	QBlobReferenced = `SELECT EXISTS (SELECT 1 FROM blob_links WHERE digest = $1)`

	QGetManifest = `SELECT m.media_type, m.artifact_type, m.subject, m.size, m.content,
       m.annotations, m.blobs, m.children, m.created
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.digest = $2`

	// QGetTaggedManifest is QResolveTag and QGetManifest in one round trip:
	// the digest, then QGetManifest's columns.
	QGetTaggedManifest = `SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.size, m.content,
       m.annotations, m.blobs, m.children, m.created
FROM tags t
JOIN repositories r ON r.id = t.repo_id
JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
WHERE r.name = $1 AND t.name = $2`

	QResolveTag = `SELECT t.digest FROM tags t
JOIN repositories r ON r.id = t.repo_id
WHERE r.name = $1 AND t.name = $2`

	// QTags yields one row with a NULL name when the repository exists but
	// has no tags after $2, and no row when it does not exist: one query
	// tells "empty" from "unknown".
	QTags = `SELECT t.name FROM repositories r
LEFT JOIN tags t ON t.repo_id = r.id AND t.name > $2
WHERE r.name = $1
ORDER BY t.name
LIMIT $3`

	QRepositories = `SELECT r.name FROM repositories r
WHERE r.name > $1
  AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
       OR EXISTS (SELECT 1 FROM blob_links b WHERE b.repo_id = r.id))
ORDER BY r.name
LIMIT $2`

	QReferrers = `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.subject = $2
ORDER BY m.digest`

	QReferrersByType = `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE r.name = $1 AND m.subject = $2 AND m.artifact_type = $3
ORDER BY m.digest`

	QGetUpload = `SELECT repository, owner, started, updated, deferred FROM uploads WHERE id = $1`

	QExpiredUploads = `SELECT id, repository, owner, started, updated, deferred FROM uploads
WHERE updated < $1
ORDER BY updated, id`

	// Open uploads of an owner and of a repository, for UploadCaps.
	QCountUploads = `SELECT (SELECT count(*) FROM uploads WHERE owner = $1),
       (SELECT count(*) FROM uploads WHERE repository = $2)`

	// The table holds a handful of rows: a scan is the right plan.
	QListSigningKeys = `SELECT id, algorithm, private_key, kek, created, retired FROM signing_keys
ORDER BY created, id`

	QGetIdentity = `SELECT document, created, created_by, incarnation FROM identities WHERE id = $1`

	QListIdentities = `SELECT id, document, created, created_by, incarnation FROM identities ORDER BY id`

	QIdentitiesVersion = `SELECT version FROM identities_version WHERE singleton = 1`

	QGetPullToken = `SELECT id, name, description, repositories, creator, creator_incarnation, secret_hash, created, expires, last_used
FROM pull_tokens WHERE id = $1`

	QListPullTokens = `SELECT id, name, description, repositories, creator, creator_incarnation, secret_hash, created, expires, last_used
FROM pull_tokens ORDER BY id`

	QPullTokensVersion = `SELECT version FROM pull_tokens_version WHERE singleton = 1`

	QGetSubscription = `SELECT id, sink, types, repositories, description, creator, creator_incarnation, created, disabled, disabled_reason
FROM subscriptions WHERE id = $1`

	QListSubscriptions = `SELECT id, sink, types, repositories, description, creator, creator_incarnation, created, disabled, disabled_reason
FROM subscriptions ORDER BY id`

	QSubscriptionsVersion = `SELECT version FROM subscriptions_version WHERE singleton = 1`

	// QDeliveryCounts counts a subscription's pending (0) and failed (2)
	// deliveries on deliveries_due, never the delivered ones, which a
	// busy subscription has millions of.
	QDeliveryCounts = `SELECT state, count(*) FROM deliveries WHERE subscription_id = $1 AND state IN (0, 2) GROUP BY state`

	QDeliveryOutcomes = `SELECT last_success, last_error, last_error_at FROM subscriptions WHERE id = $1`

	// QRecordDeliveryOutcomes keeps a subscription's newest success ($2)
	// and newest error ($3 at $4) of a batch of finished deliveries; 0
	// leaves either as it was. Every CASE reads the row as it was.
	QRecordDeliveryOutcomes = `UPDATE subscriptions SET
last_success = CASE WHEN $2 > last_success THEN $2 ELSE last_success END,
last_error = CASE WHEN $4 > last_error_at THEN $3 ELSE last_error END,
last_error_at = CASE WHEN $4 > last_error_at THEN $4 ELSE last_error_at END
WHERE id = $1`

	QEventsAfter = `SELECT seq, id, type, source, subject, time, repository, failed, actor, error_code, data
FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`

	// QEventRefsSince pages through the events since $1 on events_time:
	// ($2, $3) is the last (time, seq) of the page before.
	QEventRefsSince = `SELECT seq, id, type, repository, time FROM events
WHERE time >= $1 AND (time > $2 OR (time = $2 AND seq > $3))
ORDER BY time, seq LIMIT $4`

	QEventRef = `SELECT seq, id, type, repository, time FROM events WHERE id = $1`

	// QListDeliveries pages through a subscription's deliveries, newest
	// event first, on the primary key; $3 = 1 keeps the failed ones. An
	// event that is not a row (packed, or purged) comes back as seq 0 and
	// empty columns, for the store to read from its pack.
	QListDeliveries = `SELECT d.event_seq, COALESCE(e.seq, 0), COALESCE(e.id, ''), COALESCE(e.type, ''), COALESCE(e.subject, ''),
       COALESCE(e.time, 0), COALESCE(e.repository, ''), COALESCE(e.failed, 0), COALESCE(e.actor, ''),
       d.state, d.attempts, d.next_attempt, d.last_status, d.last_error, d.updated, d.queued
FROM deliveries d LEFT JOIN events e ON e.seq = d.event_seq
WHERE d.subscription_id = $1 AND d.event_seq < $2 AND ($3 = 0 OR d.state = 2)
ORDER BY d.event_seq DESC LIMIT $4`

	// QFailedDeliveries: the same for failed deliveries of events since $3;
	// a packed event's time is checked once it is read from its pack.
	QFailedDeliveries = `SELECT d.event_seq, COALESCE(e.seq, 0), COALESCE(e.id, ''), COALESCE(e.type, ''), COALESCE(e.repository, ''), COALESCE(e.time, 0)
FROM deliveries d LEFT JOIN events e ON e.seq = d.event_seq
WHERE d.subscription_id = $1 AND d.state = 2 AND d.event_seq > $2 AND (e.seq IS NULL OR e.time >= $3)
ORDER BY d.event_seq LIMIT $4`

	// Writes.
	QRepoID = `SELECT id FROM repositories WHERE name = $1`

	// No row back means another transaction inserted the name first; it
	// has committed by then (ON CONFLICT waits for it), so QRepoID finds it.
	QInsertRepo = `INSERT INTO repositories (name) VALUES ($1)
ON CONFLICT (name) DO NOTHING
RETURNING id`

	// Linking again keeps the size but refreshes touched. The repository
	// is named: nothing is inserted where it does not exist.
	QLinkBlob = `INSERT INTO blob_links (repo_id, digest, size, touched)
SELECT id, $2, $3, $4 FROM repositories WHERE name = $1
ON CONFLICT (repo_id, digest) DO UPDATE SET touched = excluded.touched`

	QTombstoneSince = `SELECT since FROM blob_tombstones WHERE digest = $1`

	QRemoveTombstone = `DELETE FROM blob_tombstones WHERE digest = $1`

	// No row changed means the blob is not linked in the repository.
	QTouchBlob = `UPDATE blob_links SET touched = $3 WHERE repo_id = $1 AND digest = $2`

	QInsertRef = `INSERT INTO manifest_refs (repo_id, manifest, kind, ref) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`

	QUnlinkBlob = `DELETE FROM blob_links
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND digest = $2`

	// Same digest, same bytes: a second put refreshes what was parsed from
	// them but keeps the original creation time.
	QPutManifest = `INSERT INTO manifests
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

	QDeleteManifest = `DELETE FROM manifests WHERE repo_id = $1 AND digest = $2`

	// A manifest's row, locked by the Dialect's suffix where the database
	// has row locks: QManifestExists + ForShare for a child that a manifest
	// being stored lists, + ForUpdate before deleting it.
	QManifestExists = `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2`

	// Moving a tag: lock the row (Dialect.ForUpdate) and read what it
	// points at, then update it; if there is no row, insert one, and if
	// another transaction inserted it meanwhile (no row changed), start
	// over with the lock.
	QGetTag = `SELECT digest FROM tags WHERE repo_id = $1 AND name = $2`

	QUpdateTag = `UPDATE tags SET digest = $3, updated = $4 WHERE repo_id = $1 AND name = $2`

	QInsertTag = `INSERT INTO tags (repo_id, name, digest, updated) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, name) DO NOTHING`

	// QDeleteManifestTags is the plain form; a Dialect may replace it with
	// one its planner serves better.
	QDeleteManifestTags = `DELETE FROM tags WHERE repo_id = $1 AND digest = $2`

	QDeleteTag = `DELETE FROM tags
WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2`

	QCreateUpload = `INSERT INTO uploads (id, repository, owner, started, updated, deferred) VALUES ($1, $2, $3, $4, $5, $6)`

	QTouchUpload = `UPDATE uploads SET updated = $2 WHERE id = $1`

	// QCreateUpload under UploadCaps ($7 per owner, $8 per repository;
	// 0 for none, and anonymous uploads have no owner's cap): nothing
	// inserted means a cap is reached. The dialect's LockUploads comes
	// first, so the counts see every creation that committed before.
	QCreateUploadCapped = `INSERT INTO uploads (id, repository, owner, started, updated, deferred)
SELECT $1, $2, $3, $4, $5, $6
WHERE ($7 = 0 OR $3 = '' OR (SELECT count(*) FROM uploads WHERE owner = $3) < $7)
  AND ($8 = 0 OR (SELECT count(*) FROM uploads WHERE repository = $2) < $8)`

	QStartedUpload = `UPDATE uploads SET deferred = 0 WHERE id = $1`

	QDeleteUpload = `DELETE FROM uploads WHERE id = $1`

	QPutSigningKey = `INSERT INTO signing_keys (id, algorithm, private_key, kek, created, retired)
VALUES ($1, $2, $3, $4, $5, $6)`

	// Compare-and-swap on the KEK: replicas re-wrapping at once change a
	// row once.
	QRewrapSigningKey = `UPDATE signing_keys SET private_key = $4, kek = $3
WHERE id = $1 AND kek = $2`

	// Matches the row even when it is already retired, so that "no row
	// changed" means "no such key"; the first retirement time stays.
	QRetireSigningKey = `UPDATE signing_keys
SET retired = CASE WHEN retired = 0 THEN $2 ELSE retired END
WHERE id = $1`

	QDeleteSigningKey = `DELETE FROM signing_keys WHERE id = $1`

	// Create-only: "no row changed" means the id is taken.
	QPutIdentity = `INSERT INTO identities (id, document, created, created_by, incarnation)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING`

	QDeleteIdentity = `DELETE FROM identities WHERE id = $1`

	QBumpIdentitiesVersion = `UPDATE identities_version SET version = version + 1 WHERE singleton = 1`

	// Create-only, as identities.
	QPutPullToken = `INSERT INTO pull_tokens (id, name, description, repositories, creator, creator_incarnation, secret_hash, created, expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO NOTHING`

	QDeletePullToken = `DELETE FROM pull_tokens WHERE id = $1`

	// Only ever forward: two replicas touching at once keep the later.
	QTouchPullToken = `UPDATE pull_tokens SET last_used = $2 WHERE id = $1 AND last_used < $2`

	QBumpPullTokensVersion = `UPDATE pull_tokens_version SET version = version + 1 WHERE singleton = 1`

	QAppendEvent = `INSERT INTO events (id, type, source, subject, time, repository, failed, actor, error_code, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

	QPurgeEvents = `DELETE FROM events WHERE time < $1`

	// The event's seq, for its deliveries.
	QAppendEventSeq = `INSERT INTO events (id, type, source, subject, time, repository, failed, actor, error_code, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq`

	QInsertDelivery = `INSERT INTO deliveries (subscription_id, event_seq, next_attempt, updated) VALUES ($1, $2, $3, $3)`

	// Create-only, as identities.
	QPutSubscription = `INSERT INTO subscriptions (id, sink, types, repositories, description, creator, creator_incarnation, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO NOTHING`

	QDeleteSubscription = `DELETE FROM subscriptions WHERE id = $1`

	QDeleteSubscriptionDeliveries = `DELETE FROM deliveries WHERE subscription_id = $1`

	QDisableSubscription = `UPDATE subscriptions SET disabled = $2, disabled_reason = $3 WHERE id = $1`

	QEnableSubscription = `UPDATE subscriptions SET disabled = 0, disabled_reason = '' WHERE id = $1`

	QBumpSubscriptionsVersion = `UPDATE subscriptions_version SET version = version + 1 WHERE singleton = 1`

	QFinishDelivery = `UPDATE deliveries
SET state = $3, attempts = attempts + 1, next_attempt = $4, lease_until = 0, last_status = $5, last_error = $6, updated = $7
WHERE subscription_id = $1 AND event_seq = $2`
)

// Queries of registry gc (store.Collector). A manifest is collectable
// when no tag points at it, no manifest of its repository lists it as a
// child (manifest_refs kind 1) and its subject is not stored in the
// repository; a blob link when no manifest of the repository lists the
// blob (kind 0).
const (
	QManifestCandidates = `SELECT r.name, m.digest, m.size
FROM manifests m
JOIN repositories r ON r.id = m.repo_id
WHERE m.created < $1 AND (r.name, m.digest) > ($2, $3)
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs c WHERE c.repo_id = m.repo_id AND c.ref = m.digest AND c.kind = 1)
  AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject)
ORDER BY r.name, m.digest
LIMIT $4`

	QCollectManifest = `DELETE FROM manifests
WHERE repo_id = $1 AND digest = $2 AND created < $3
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = $1 AND t.digest = $2)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs c WHERE c.repo_id = $1 AND c.ref = $2 AND c.kind = 1)
  AND NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = $1 AND s.digest = manifests.subject)`

	QBlobLinkCandidates = `SELECT r.name, b.digest, b.size
FROM blob_links b
JOIN repositories r ON r.id = b.repo_id
WHERE b.touched < $1 AND (r.name, b.digest) > ($2, $3)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.repo_id = b.repo_id AND x.ref = b.digest AND x.kind = 0)
ORDER BY r.name, b.digest
LIMIT $4`

	QCollectBlobLink = `DELETE FROM blob_links
WHERE repo_id = $1 AND digest = $2 AND touched < $3
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.repo_id = $1 AND x.ref = $2 AND x.kind = 0)`

	// Only an unlinked blob without a tombstone gets one.
	QTombstoneBlob = `INSERT INTO blob_tombstones (digest, since)
SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM blob_links WHERE digest = $1)
ON CONFLICT (digest) DO NOTHING`
)

// DueDeliveries is the query of the head of a subscription's due, unleased
// deliveries (an event that is not a row comes back as seq 0, as in
// QListDeliveries), with a Dialect's index hint (Dialect.DueIndexHint) and row
// locks (Dialect.SkipLocked). The head is picked from deliveries_due alone
// and only then joined with its events: PostgreSQL, given the join whole,
// merges it with the events' primary key from the first event of the log
// onwards, 58 ms a claim behind 190 000 delivered events against 0.3 ms
// so.
func DueDeliveries(indexHint, lock string) string {
	return `SELECT d.event_seq, d.attempts, d.queued, COALESCE(e.seq, 0), COALESCE(e.id, ''), COALESCE(e.type, ''), COALESCE(e.source, ''),
	COALESCE(e.subject, ''), COALESCE(e.time, 0), COALESCE(e.repository, ''), COALESCE(e.failed, 0), COALESCE(e.actor, ''),
	COALESCE(e.error_code, ''), e.data
FROM (SELECT d.event_seq, d.attempts, d.queued FROM deliveries d` + indexHint + `
	WHERE d.subscription_id = $1 AND d.state = 0 AND d.next_attempt <= $2 AND d.lease_until <= $2
	ORDER BY d.event_seq
	LIMIT $3` + lock + `) d
LEFT JOIN events e ON e.seq = d.event_seq
ORDER BY d.event_seq`
}
