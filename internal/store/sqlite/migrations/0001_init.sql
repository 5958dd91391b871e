-- 0001: the registry's metadata.
--
-- Conventions, so that the queries port to PostgreSQL unchanged:
--   * timestamps are Unix nanoseconds (UTC) in INTEGER columns;
--   * "none" is the empty string, never NULL, for digests and types;
--   * annotations are JSON text, blobs and children one digest a line;
--   * names sort by bytes (SQLite's BINARY collation; PostgreSQL needs
--     COLLATE "C" on these columns for the same order).
-- The PostgreSQL schema differs only in types (BIGINT identity, BYTEA).

-- A repository exists from its first blob link or manifest on. Rows are
-- never deleted, so ids stay stable.
CREATE TABLE repositories (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

-- blob_links say which repositories may serve which blobs.
CREATE TABLE blob_links (
    repo_id INTEGER NOT NULL REFERENCES repositories (id),
    digest  TEXT    NOT NULL,
    size    INTEGER NOT NULL,
    PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;

-- For BlobRepositories and BlobReferenced, which look a digest up across
-- repositories.
CREATE INDEX blob_links_digest ON blob_links (digest);

CREATE TABLE manifests (
    repo_id       INTEGER NOT NULL REFERENCES repositories (id),
    digest        TEXT    NOT NULL,
    media_type    TEXT    NOT NULL,
    artifact_type TEXT    NOT NULL DEFAULT '',
    subject       TEXT    NOT NULL DEFAULT '',
    size          INTEGER NOT NULL,
    content       BLOB    NOT NULL,
    annotations   TEXT    NOT NULL DEFAULT '', -- JSON object
    blobs         TEXT    NOT NULL DEFAULT '', -- digests, one a line
    children      TEXT    NOT NULL DEFAULT '', -- digests, one a line
    created       INTEGER NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

-- For the referrers API, in digest order. (Not a partial index on
-- subject <> '': SQLite's planner does not use one for the joined,
-- parameterized referrers query.)
CREATE INDEX manifests_subject ON manifests (repo_id, subject, digest);

-- A tag always points at a manifest of its own repository.
CREATE TABLE tags (
    repo_id INTEGER NOT NULL,
    name    TEXT    NOT NULL,
    digest  TEXT    NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (repo_id, name),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests (repo_id, digest)
) WITHOUT ROWID;

-- For DeleteManifest, which removes every tag pointing at a manifest.
CREATE INDEX tags_digest ON tags (repo_id, digest);

-- An upload names its repository but does not make it exist.
CREATE TABLE uploads (
    id         TEXT    PRIMARY KEY,
    repository TEXT    NOT NULL,
    started    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX uploads_started ON uploads (started);
