-- 0015: pull and failure events that no subscription takes are kept many
-- to a row ("packs"), not one row each: a busy registry records thousands
-- of pulls a second, and a row with its five index entries cost SQLite
-- about fifteen times what a packed event does (docs/performance.md,
-- 2026-12-08). A pack's columns are what its events share; events holds
-- each event's seq, time, id, subject and data, coded against the one
-- before (package sqlstore, packs.go). seq_first and seq_last bound its
-- events' seqs, which lie in one batch's block, at most packMaxSeqSpan
-- apart, among the seqs of the batch's other packs and rows. first_id is
-- its first event's id, unique, so that a batch appended twice is
-- refused. A pack spans at most a second (time_first, time_last).
-- The indexes serve the event log's queries as events' do (migration
-- 0011): the whole log by time, and by repository and by actor, covering
-- every filter so that a page whose packs must be sorted sorts keys only;
-- failed pushes, the only pushes packed, have a partial index of their
-- own, so that a tag's history need not walk the repository's pulls.
CREATE TABLE event_packs (
    seq_first  INTEGER PRIMARY KEY,
    seq_last   INTEGER NOT NULL,
    first_id   TEXT    NOT NULL UNIQUE,
    count      INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    repository TEXT    NOT NULL,
    failed     INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    error_code TEXT    NOT NULL,
    time_first INTEGER NOT NULL,
    time_last  INTEGER NOT NULL,
    events     BLOB    NOT NULL
);
CREATE INDEX event_packs_time ON event_packs (time_last);
CREATE INDEX event_packs_repository ON event_packs (repository, time_last, type, failed, actor);
CREATE INDEX event_packs_actor ON event_packs (actor, time_last, type, failed, repository);
CREATE INDEX event_packs_pushes ON event_packs (repository, time_last) WHERE type = 'dev.chainctl.registry.push.v1';
-- A batch takes its packs' seqs from the events table's AUTOINCREMENT
-- counter in one UPDATE, which needs its row (SQLite makes it at the
-- first insert).
INSERT INTO sqlite_sequence (name, seq)
SELECT 'events', COALESCE((SELECT max(seq) FROM events), 0)
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');
