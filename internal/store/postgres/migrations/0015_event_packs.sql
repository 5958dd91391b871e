-- 0015: pull and failure events kept many to a row (the twin of the
-- SQLite migration 0015, which says why). A batch takes its packs' seqs
-- from the events table's identity sequence, so that packed events and
-- rows share one order.
CREATE TABLE event_packs (
    seq_first  BIGINT PRIMARY KEY,
    seq_last   BIGINT NOT NULL,
    first_id   TEXT COLLATE "C" NOT NULL UNIQUE,
    count      INTEGER NOT NULL,
    type       TEXT NOT NULL,
    source     TEXT NOT NULL,
    repository TEXT COLLATE "C" NOT NULL,
    failed     INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    error_code TEXT NOT NULL,
    time_first BIGINT NOT NULL,
    time_last  BIGINT NOT NULL,
    events     BYTEA NOT NULL
);
CREATE INDEX event_packs_time ON event_packs (time_last, seq_first);
CREATE INDEX event_packs_repository ON event_packs (repository, time_last, seq_first) INCLUDE (type, failed, actor);
CREATE INDEX event_packs_actor ON event_packs (actor, time_last, seq_first) INCLUDE (type, failed, repository);
CREATE INDEX event_packs_pushes ON event_packs (repository, time_last, seq_first) WHERE type = 'dev.chainctl.registry.push.v1';
