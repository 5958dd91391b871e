package store

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
)

// TombstoneTTL is how long a blob tombstone blocks LinkBlob. A garbage
// collector removes its tombstone seconds after creating it; one older
// than this belongs to a collector that died, and LinkBlob removes it.
const TombstoneTTL = time.Hour

// Candidate is a manifest or blob link that garbage collection may
// remove, and the cursor for the next page of candidates.
type Candidate struct {
	Repository string
	Digest     digest.Digest
	Size       int64
}

// Collector is what online garbage collection needs of a metadata store.
// Each method decides and deletes in one transaction, serialized against
// the pushes (LinkBlob, PutManifest) that could make the deletion wrong,
// so registries keep serving while it runs.
type Collector interface {
	// ManifestCandidates returns up to n manifests, in (repository,
	// digest) order after the cursor after (zero: from the start), that
	// CollectManifest would remove now. The answer is advisory: the state
	// may change before CollectManifest runs.
	ManifestCandidates(ctx context.Context, before time.Time, after Candidate, n int) ([]Candidate, error)
	// CollectManifest deletes the manifest only if it was created before
	// before, no tag points at it, no other manifest of the repository
	// lists it as a child, and its subject (if any) is not stored in the
	// repository: referrers of existing manifests are kept. It reports
	// whether it deleted it; a manifest that does not exist is not an
	// error.
	CollectManifest(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error)
	// BlobLinkCandidates returns up to n blob links, in (repository,
	// digest) order after the cursor, that CollectBlobLink would remove now.
	BlobLinkCandidates(ctx context.Context, before time.Time, after Candidate, n int) ([]Candidate, error)
	// CollectBlobLink deletes repo's link to dgst only if it was last
	// touched (linked, or referenced by a pushed manifest) before before
	// and no manifest of the repository lists dgst among its blobs. It
	// reports whether it deleted it.
	CollectBlobLink(ctx context.Context, repo string, dgst digest.Digest, before time.Time) (bool, error)
	// TombstoneBlob marks dgst's bytes as being deleted, only if no
	// repository links dgst and no tombstone exists for it yet; it reports
	// whether it did. While the tombstone exists LinkBlob fails with
	// ErrBlobDeleted. The caller deletes the bytes, then RemoveTombstone.
	TombstoneBlob(ctx context.Context, dgst digest.Digest) (bool, error)
	// RemoveTombstone removes dgst's tombstone; no tombstone is not an
	// error.
	RemoveTombstone(ctx context.Context, dgst digest.Digest) error
}
