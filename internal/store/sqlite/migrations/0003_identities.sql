-- 0003: identities created through /api/v1/identities (see 0001 for the
-- conventions). document is the identity's JSON, opaque to the store;
-- created_by is the id of the identity that created it.
CREATE TABLE identities (
    id         TEXT    PRIMARY KEY,
    document   BLOB    NOT NULL,
    created    INTEGER NOT NULL,
    created_by TEXT    NOT NULL
) WITHOUT ROWID;

-- One row whose version every identity write increments in the same
-- transaction, so that replicas notice changes with one indexed read.
CREATE TABLE identities_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL
);
INSERT INTO identities_version (singleton, version) VALUES (1, 0);
