-- 0011: querying the event log (/api/v1/events, tag history). error_code
-- keeps a failed request's OCI error code beside the event's data, so a
-- summary of failures by code is a GROUP BY, not a parse of every row; the
-- events recorded before it get theirs from their data. The indexes serve
-- a page of the newest events under filters: by repository, by actor, and
-- the pushes of one tag (a partial index: pushes are few beside pulls).
-- The first two cover every filter, so that a page whose events must be
-- sorted (a prefix spans many repositories) picks its rows from the index
-- alone and reads only the page's rows from the table.
-- events_time already orders the whole log by (time, seq): SQLite keeps
-- the rowid (seq) in every index.
ALTER TABLE events ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
UPDATE events SET error_code = COALESCE(json_extract(CAST(data AS TEXT), '$.error.code'), '')
WHERE failed = 1 AND json_valid(CAST(data AS TEXT));
CREATE INDEX events_repository_time ON events (repository, time, type, failed, actor);
CREATE INDEX events_actor_time ON events (actor, time, type, failed, repository);
CREATE INDEX events_pushes ON events (subject, time) WHERE type = 'dev.chainctl.registry.push.v1';
