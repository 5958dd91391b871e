-- 0003: identities created through /api/v1/identities (see 0001 for the
-- conventions; the twin of the SQLite migration 0003). document is the
-- identity's JSON, opaque to the store; created_by is the id of the
-- identity that created it.
CREATE TABLE identities (
    id         TEXT COLLATE "C" PRIMARY KEY,
    document   BYTEA NOT NULL,
    created    BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- One row whose version every identity write increments in the same
-- transaction, so that every replica notices a change with one indexed
-- read. The row lock the increment takes also orders identity writes.
CREATE TABLE identities_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   BIGINT NOT NULL
);
INSERT INTO identities_version (singleton, version) VALUES (1, 0);
