package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Metadata is what the registry needs of the metadata store: blob links,
// manifests and tags, listings, and upload sessions, each with the
// semantics store documents. store/sqlite and store/postgres provide it.
type Metadata interface {
	blobLinks
	manifestStore
	listings
	uploadRecords
}

// blobLinks says which repositories hold which blobs.
type blobLinks interface {
	LinkBlob(ctx context.Context, repo string, dgst digest.Digest, size int64, also ...store.TxFunc) error
	BlobSize(ctx context.Context, repo string, dgst digest.Digest) (int64, error)
	BlobSizes(ctx context.Context, repo string, dgsts []digest.Digest) (map[digest.Digest]int64, error)
	UnlinkBlob(ctx context.Context, repo string, dgst digest.Digest) error
	BlobRepositories(ctx context.Context, dgst digest.Digest, n int) ([]string, error)
}

// manifestStore keeps manifests and the tags that point at them.
type manifestStore interface {
	PutManifest(ctx context.Context, m *store.Manifest, tag string, also ...store.TxFunc) (previous digest.Digest, err error)
	GetManifest(ctx context.Context, repo string, dgst digest.Digest) (*store.Manifest, error)
	GetTaggedManifest(ctx context.Context, repo, tag string) (*store.Manifest, error)
	DeleteManifest(ctx context.Context, repo string, dgst digest.Digest) error
	DeleteTag(ctx context.Context, repo, tag string) error
}

// listings pages through tags, repositories and referrers.
type listings interface {
	Tags(ctx context.Context, repo, last string, n int) ([]string, error)
	Repositories(ctx context.Context, last string, n int) ([]string, error)
	Referrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]store.Descriptor, error)
}

// uploadRecords records upload sessions, their owners and activity.
type uploadRecords interface {
	CreateUpload(ctx context.Context, u store.Upload, caps store.UploadCaps) error
	GetUpload(ctx context.Context, id string) (*store.Upload, error)
	TouchUpload(ctx context.Context, id string, at time.Time) error
	StartedUpload(ctx context.Context, id string) error
	DeleteUpload(ctx context.Context, id string) error
}
