package rowcodec

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Rows is what database/sql's and pgx's result sets both offer.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Collect scans every row of rows with scan. No rows is an empty, non-nil
// slice (JSON []); the caller closes rows and wraps the error.
func Collect[T any](rows Rows, scan func(Rows) (T, error)) ([]T, error) {
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Nanos is how both backends store a time: Unix nanoseconds, UTC.
func Nanos(t time.Time) int64 { return t.UnixNano() }

// FromNanos is the inverse of Nanos.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// SigningKey scans a row of (id, algorithm, private_key, kek, created,
// retired).
func SigningKey(r Rows) (store.SigningKey, error) {
	var k store.SigningKey
	var created, retired int64
	if err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.KEK, &created, &retired); err != nil {
		return store.SigningKey{}, err
	}
	k.Created = FromNanos(created)
	if retired != 0 {
		k.Retired = FromNanos(retired)
	}
	return k, nil
}

// StoredIdentity scans a row of (id, document, created, created_by,
// incarnation).
func StoredIdentity(r Rows) (store.StoredIdentity, error) {
	var id store.StoredIdentity
	var created int64
	if err := r.Scan(&id.ID, &id.Document, &created, &id.CreatedBy, &id.Incarnation); err != nil {
		return store.StoredIdentity{}, err
	}
	id.Created = FromNanos(created)
	return id, nil
}

// Upload scans a row of (id, repository, owner, started, updated).
func Upload(r Rows) (store.Upload, error) {
	var u store.Upload
	var started, updated int64
	if err := r.Scan(&u.ID, &u.Repository, &u.Owner, &started, &updated); err != nil {
		return store.Upload{}, err
	}
	u.Started, u.Updated = FromNanos(started), FromNanos(updated)
	return u, nil
}

// CheckUploadCaps returns ErrTooManyUploads when an owner with owned and
// a repository with inRepo open uploads may not open another under caps.
func CheckUploadCaps(caps store.UploadCaps, owner string, owned, inRepo int64) error {
	switch {
	case caps.PerOwner > 0 && owner != "" && owned >= int64(caps.PerOwner):
		return fmt.Errorf("%w: the principal has %d open, the most allowed", store.ErrTooManyUploads, owned)
	case caps.PerRepository > 0 && inRepo >= int64(caps.PerRepository):
		return fmt.Errorf("%w: the repository has %d open, the most allowed", store.ErrTooManyUploads, inRepo)
	}
	return nil
}

// UploadTimes fills in an upload's default times: a zero Started is now, a
// zero Updated is Started.
func UploadTimes(u store.Upload) (started, updated int64) {
	if u.Started.IsZero() {
		u.Started = time.Now()
	}
	if u.Updated.IsZero() {
		u.Updated = u.Started
	}
	return Nanos(u.Started), Nanos(u.Updated)
}

// Referrer scans a row of (media_type, artifact_type, digest, size,
// annotations).
func Referrer(r Rows) (store.Descriptor, error) {
	var d store.Descriptor
	var dgst, annotations string
	if err := r.Scan(&d.MediaType, &d.ArtifactType, &dgst, &d.Size, &annotations); err != nil {
		return store.Descriptor{}, err
	}
	if err := DecodeJSON(annotations, &d.Annotations); err != nil {
		return store.Descriptor{}, fmt.Errorf("annotations of %s: %w", dgst, err)
	}
	d.Digest = digest.Digest(dgst)
	return d, nil
}
