-- 0004: online garbage collection (see 0001 for the conventions; the twin
-- of the SQLite migration 0004).
--
-- blob_links.touched is when a link was last made or referenced by a
-- pushed manifest; garbage collection removes only links untouched for its
-- grace period. Existing links count as touched when this migration runs,
-- so a push in flight across the upgrade keeps its links for a full grace
-- period.
ALTER TABLE blob_links ADD COLUMN touched BIGINT NOT NULL DEFAULT 0;
UPDATE blob_links SET touched = (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint;

-- manifest_refs are the blobs (kind 0) and child manifests (kind 1) each
-- manifest lists, as rows, so "does any manifest of the repository
-- reference X" is one index lookup. They go with their manifest.
CREATE TABLE manifest_refs (
    repo_id  BIGINT NOT NULL,
    manifest TEXT COLLATE "C" NOT NULL,
    kind     SMALLINT NOT NULL,
    ref      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (repo_id, manifest, kind, ref),
    FOREIGN KEY (repo_id, manifest) REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
);

CREATE INDEX manifest_refs_ref ON manifest_refs (repo_id, ref, kind);

INSERT INTO manifest_refs (repo_id, manifest, kind, ref)
SELECT repo_id, digest, 0, unnest(string_to_array(blobs, E'\n')) FROM manifests WHERE blobs <> ''
UNION
SELECT repo_id, digest, 1, unnest(string_to_array(children, E'\n')) FROM manifests WHERE children <> ''
ON CONFLICT DO NOTHING;

-- A tombstone says a blob's bytes are being deleted: LinkBlob refuses the
-- digest meanwhile. since is when it was made.
CREATE TABLE blob_tombstones (
    digest TEXT COLLATE "C" PRIMARY KEY,
    since  BIGINT NOT NULL
);
