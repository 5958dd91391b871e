-- 0009: the event log (the twin of the SQLite migration 0009). Every push
-- and pull, succeeded or failed, is a row: push events are written in the
-- transaction of the write they report, pulls and failures in batches. seq
-- orders the log; id is the CloudEvents id, the same across every delivery
-- attempt. data is the event's JSON, opaque to the store; repository, type,
-- time, failed and actor are kept beside it for queries. Times are Unix
-- nanoseconds.
CREATE TABLE events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    source     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    time       BIGINT NOT NULL,
    repository TEXT COLLATE "C" NOT NULL,
    failed     INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    data       BYTEA NOT NULL
);
CREATE INDEX events_time ON events (time);
