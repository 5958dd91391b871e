-- 0016: a delivery may name a packed event (migration 0015), which is no
-- row of events, so deliveries lose their foreign key to events: the
-- table is made again without it (SQLite cannot drop a constraint). The
-- purge of events (PurgeEvents) now deletes their deliveries itself,
-- rows' and packs' alike; event_packs.delivered marks the packs with any.
CREATE TABLE deliveries_0016 (
    subscription_id TEXT    NOT NULL,
    event_seq       INTEGER NOT NULL,
    state           INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    updated         INTEGER NOT NULL,
    queued          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subscription_id, event_seq)
) WITHOUT ROWID;
INSERT INTO deliveries_0016 (subscription_id, event_seq, state, attempts, next_attempt, lease_until, last_status, last_error, updated, queued)
SELECT subscription_id, event_seq, state, attempts, next_attempt, lease_until, last_status, last_error, updated, queued FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_0016 RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (subscription_id, state, event_seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
ALTER TABLE event_packs ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
