-- 0001: the registry's metadata; the PostgreSQL twin of
-- internal/store/sqlite/migrations/0001_init.sql. The two backends keep
-- their migrations in step: version n here makes the same change as
-- version n there.
--
-- Conventions, shared with SQLite:
--   * timestamps are Unix nanoseconds (UTC) in BIGINT columns, because
--     timestamptz keeps only microseconds and the store must not truncate;
--   * "none" is the empty string, never NULL, for digests and types;
--   * annotations are JSON text, blobs and children one digest a line;
--   * names sort by bytes: every key column is COLLATE "C", whatever the
--     database's default collation is, so listings and paging match SQLite.

-- A repository exists from its first blob link or manifest on. Rows are
-- never deleted, so ids stay stable.
CREATE TABLE repositories (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE
);

-- blob_links say which repositories may serve which blobs.
CREATE TABLE blob_links (
    repo_id BIGINT NOT NULL REFERENCES repositories (id),
    digest  TEXT COLLATE "C" NOT NULL,
    size    BIGINT NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

-- For BlobRepositories and BlobReferenced, which look a digest up across
-- repositories.
CREATE INDEX blob_links_digest ON blob_links (digest);

CREATE TABLE manifests (
    repo_id       BIGINT NOT NULL REFERENCES repositories (id),
    digest        TEXT COLLATE "C" NOT NULL,
    media_type    TEXT NOT NULL,
    artifact_type TEXT NOT NULL DEFAULT '',
    subject       TEXT COLLATE "C" NOT NULL DEFAULT '',
    size          BIGINT NOT NULL,
    content       BYTEA NOT NULL,
    annotations   TEXT NOT NULL DEFAULT '', -- JSON object
    blobs         TEXT NOT NULL DEFAULT '', -- digests, one a line
    children      TEXT NOT NULL DEFAULT '', -- digests, one a line
    created       BIGINT NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

-- For the referrers API, in digest order.
CREATE INDEX manifests_subject ON manifests (repo_id, subject, digest);

-- A tag always points at a manifest of its own repository.
CREATE TABLE tags (
    repo_id BIGINT NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    digest  TEXT COLLATE "C" NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (repo_id, name),
    FOREIGN KEY (repo_id, digest) REFERENCES manifests (repo_id, digest)
);

-- For DeleteManifest, which removes every tag pointing at a manifest (and
-- for the foreign key check when a manifest is deleted).
CREATE INDEX tags_digest ON tags (repo_id, digest);

-- An upload names its repository but does not make it exist.
CREATE TABLE uploads (
    id         TEXT COLLATE "C" PRIMARY KEY,
    repository TEXT NOT NULL,
    started    BIGINT NOT NULL
);

CREATE INDEX uploads_started ON uploads (started);
