// Package storage defines where blob bytes live. Implementations keep blobs
// content-addressed by digest and never learn about HTTP or repositories:
// which repository may read a blob is metadata (package store).
package storage

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// Errors returned by implementations. Callers test them with errors.Is.
var (
	// ErrNotFound means the blob or upload does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDigestMismatch means the bytes written do not hash to the digest
	// the caller promised. Nothing was committed.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrOffsetMismatch means an upload write did not start where the
	// upload's bytes so far end (chunks out of order).
	ErrOffsetMismatch = errors.New("upload offset mismatch")
	// ErrUnsupportedDigest means the digest algorithm is not one the store
	// can verify (sha256 and sha512 are).
	ErrUnsupportedDigest = errors.New("unsupported digest algorithm")
)

// BlobStore keeps committed, immutable blobs by digest.
type BlobStore interface {
	// Stat returns the size of a committed blob, or ErrNotFound.
	Stat(ctx context.Context, dgst digest.Digest) (int64, error)
	// Open returns the blob's bytes from offset; length < 0 reads to the
	// end. It returns ErrNotFound when the blob does not exist. The caller
	// closes the reader.
	Open(ctx context.Context, dgst digest.Digest, offset, length int64) (io.ReadCloser, error)
	// Put streams r into the store and commits it under dgst only if the
	// bytes hash to dgst; otherwise it returns ErrDigestMismatch and nothing
	// is visible. Memory use does not grow with the blob size. It returns
	// the number of bytes written.
	Put(ctx context.Context, dgst digest.Digest, r io.Reader) (int64, error)
	// Delete removes a committed blob. Deleting a missing blob returns
	// ErrNotFound.
	Delete(ctx context.Context, dgst digest.Digest) error
}

// Walker is a BlobStore that can list its committed blobs, for garbage
// collection. Callers find it by type assertion.
type Walker interface {
	// WalkBlobs calls fn for every committed blob, in no particular order,
	// with its size and the time it was last written (committed or put
	// again). Blobs put or deleted during the walk may or may not be
	// seen. An error from fn stops the walk and is returned.
	WalkBlobs(ctx context.Context, fn func(dgst digest.Digest, size int64, modified time.Time) error) error
}

// Quarantiner is a BlobStore that can set a blob aside: what `registry
// fsck` does with stored bytes that no longer hash to their digest. A
// quarantined blob is no longer served (Stat and Open answer ErrNotFound),
// a later Put of the digest stores it afresh, and the bad bytes are kept
// for inspection where the returned location says. Callers find it by type
// assertion.
type Quarantiner interface {
	Quarantine(ctx context.Context, dgst digest.Digest) (where string, err error)
}

// UploadStore keeps the bytes of resumable uploads (OCI chunked pushes)
// until they are committed as a blob. Upload ids are chosen by the caller
// and are opaque to the store; state lives in the store, not in process
// memory, so any replica can take the next chunk.
type UploadStore interface {
	// StartUpload creates an empty upload with the given id.
	StartUpload(ctx context.Context, id string) error
	// WriteUpload appends r to the upload. offset must equal the upload's
	// current size, else ErrOffsetMismatch and nothing is written. It
	// returns the upload's size afterwards. ErrNotFound if no such upload.
	// If r fails or ctx ends midway, the upload is rolled back to offset.
	WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// UploadSize returns the number of bytes received so far, or ErrNotFound.
	UploadSize(ctx context.Context, id string) (int64, error)
	// CommitUpload verifies that the upload's bytes hash to dgst and makes
	// them the blob dgst, atomically, removing the upload. On
	// ErrDigestMismatch the upload is left as it was, except that a store
	// that must read the bytes back to verify a digest may then refuse
	// further chunks (S3, for a SHA-512 digest of an upload of several
	// parts); a commit with the right digest still succeeds.
	CommitUpload(ctx context.Context, id string, dgst digest.Digest) (int64, error)
	// CancelUpload discards an upload and its bytes; ErrNotFound if none.
	CancelUpload(ctx context.Context, id string) error
}

// Store is what a backend provides: blobs and the uploads that become them.
type Store interface {
	BlobStore
	UploadStore
}
