-- 0011: querying the event log (the twin of the SQLite migration 0011).
-- error_code keeps a failed request's OCI error code beside the event's
-- data, so a summary of failures by code is a GROUP BY, not a parse of
-- every row; the events recorded before it get theirs from their data.
-- The indexes serve a page of the newest events under filters, ordered by
-- (time, seq): the whole log, by repository, by actor, and the pushes of
-- one tag (a partial index: pushes are few beside pulls). The first two
-- cover every filter, so that a page whose events must be sorted picks its
-- rows from the index alone and reads only the page's rows from the table.
-- events_time_seq
-- replaces events_time, which the purge by time uses just as well.
ALTER TABLE events ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
UPDATE events SET error_code = COALESCE(convert_from(data, 'UTF8')::jsonb #>> '{error,code}', '')
WHERE failed = 1;
CREATE INDEX events_time_seq ON events (time, seq);
DROP INDEX events_time;
CREATE INDEX events_repository_time ON events (repository, time, seq) INCLUDE (type, failed, actor);
CREATE INDEX events_actor_time ON events (actor, time, seq) INCLUDE (type, failed, repository);
CREATE INDEX events_pushes ON events (subject, time, seq) WHERE type = 'dev.chainctl.registry.push.v1';
