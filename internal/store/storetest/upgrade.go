package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Digests of the data UpgradeData writes.
var (
	upgradeManifest = digest.FromString("upgrade manifest")
	upgradeIndex    = digest.FromString("upgrade index")
	upgradeBlobs    = []digest.Digest{digest.FromString("upgrade config"), digest.FromString("upgrade layer")}
	upgradeLoose    = digest.FromString("upgrade loose blob")
)

// UpgradeData is SQL, valid for both backends, that fills a schema at
// migration 0003 (before garbage collection) with a repository, three blob
// links, an image manifest listing two of them and an index listing the
// image. Backends run it before applying 0004, then CheckUpgrade.
func UpgradeData() []string {
	return []string{
		`INSERT INTO repositories (name) VALUES ('app')`,
		fmt.Sprintf(`INSERT INTO blob_links (repo_id, digest, size) SELECT id, '%s', 1 FROM repositories`, upgradeBlobs[0]),
		fmt.Sprintf(`INSERT INTO blob_links (repo_id, digest, size) SELECT id, '%s', 1 FROM repositories`, upgradeBlobs[1]),
		fmt.Sprintf(`INSERT INTO blob_links (repo_id, digest, size) SELECT id, '%s', 1 FROM repositories`, upgradeLoose),
		fmt.Sprintf(`INSERT INTO manifests (repo_id, digest, media_type, size, content, blobs, children, created)
SELECT id, '%s', 'x', 0, '', '%s' || char(10) || '%s', '', 1 FROM repositories`, upgradeManifest, upgradeBlobs[0], upgradeBlobs[1]),
		fmt.Sprintf(`INSERT INTO manifests (repo_id, digest, media_type, size, content, blobs, children, created)
SELECT id, '%s', 'x', 0, '', '', '%s', 1 FROM repositories`, upgradeIndex, upgradeManifest),
	}
}

// CheckUpgrade checks what migration 0004 made of UpgradeData: existing
// links count as touched at the upgrade, and the manifests' blobs and
// children were recorded, so gc keeps what they reference.
func CheckUpgrade(t *testing.T, s store.Store, migrated time.Time) {
	t.Helper()
	ctx := t.Context()
	if got, err := s.BlobLinkCandidates(ctx, migrated.Add(-time.Minute), store.Candidate{}, 10); err != nil || len(got) != 0 {
		t.Errorf("BlobLinkCandidates(before the upgrade) = %v, %v, want none", got, err)
	}
	got, err := s.BlobLinkCandidates(ctx, time.Now().Add(time.Hour), store.Candidate{}, 10)
	if err != nil || len(got) != 1 || got[0].Digest != upgradeLoose {
		t.Errorf("BlobLinkCandidates = %v, %v, want only %s", got, err, upgradeLoose)
	}
	got, err = s.ManifestCandidates(ctx, time.Now(), store.Candidate{}, 10)
	if err != nil || len(got) != 1 || got[0].Digest != upgradeIndex {
		t.Errorf("ManifestCandidates = %v, %v, want only the index %s", got, err, upgradeIndex)
	}
	m, err := s.GetManifest(ctx, "app", upgradeManifest)
	if err != nil || !slices.Equal(m.Blobs, upgradeBlobs) {
		t.Errorf("GetManifest after the upgrade = %v, %v", m, err)
	}
}
