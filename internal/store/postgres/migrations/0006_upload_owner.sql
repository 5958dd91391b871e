-- 0006: an upload belongs to the principal that started it (owner, a key
-- of the principal; '' for anonymous), and expires by its last activity
-- (updated), not by when it started: a push that writes for longer than
-- the upload TTL must not be purged under its client. Existing uploads
-- count as active since they started. The indexes serve the caps on open
-- uploads per owner and per repository, and the purge. (The twin of the
-- SQLite migration 0006.)
ALTER TABLE uploads ADD COLUMN owner TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
UPDATE uploads SET updated = started;
DROP INDEX uploads_started;
CREATE INDEX uploads_updated ON uploads (updated);
CREATE INDEX uploads_owner ON uploads (owner);
CREATE INDEX uploads_repository ON uploads (repository);
