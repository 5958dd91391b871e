-- 0004: online garbage collection (see 0001 for the conventions).
--
-- blob_links.touched is when a link was last made or referenced by a
-- pushed manifest; garbage collection removes only links untouched for its
-- grace period. Existing links count as touched when this migration runs,
-- so a push in flight across the upgrade keeps its links for a full grace
-- period.
ALTER TABLE blob_links ADD COLUMN touched INTEGER NOT NULL DEFAULT 0;
UPDATE blob_links SET touched = unixepoch('now') * 1000000000;

-- manifest_refs are the blobs (kind 0) and child manifests (kind 1) each
-- manifest lists: the manifests' blobs and children columns as rows, so
-- "does any manifest of the repository reference X" is one index lookup.
-- They go with their manifest.
CREATE TABLE manifest_refs (
    repo_id  INTEGER NOT NULL,
    manifest TEXT    NOT NULL,
    kind     INTEGER NOT NULL,
    ref      TEXT    NOT NULL,
    PRIMARY KEY (repo_id, manifest, kind, ref),
    FOREIGN KEY (repo_id, manifest) REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX manifest_refs_ref ON manifest_refs (repo_id, ref, kind);

WITH RECURSIVE split (repo_id, manifest, kind, ref, rest) AS (
    SELECT repo_id, digest, 0, '', blobs || char(10) FROM manifests WHERE blobs <> ''
    UNION ALL
    SELECT repo_id, digest, 1, '', children || char(10) FROM manifests WHERE children <> ''
    UNION ALL
    SELECT repo_id, manifest, kind,
           substr(rest, 1, instr(rest, char(10)) - 1),
           substr(rest, instr(rest, char(10)) + 1)
    FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO manifest_refs (repo_id, manifest, kind, ref)
SELECT repo_id, manifest, kind, ref FROM split WHERE ref <> '';

-- A tombstone says a blob's bytes are being deleted: LinkBlob refuses the
-- digest meanwhile. since is when it was made.
CREATE TABLE blob_tombstones (
    digest TEXT    PRIMARY KEY,
    since  INTEGER NOT NULL
) WITHOUT ROWID;
