package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// collect runs q and scans every row with scan. No rows is an empty,
// non-nil slice (JSON []); the caller wraps the error.
func collect[T any](ctx context.Context, r runner, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := r.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
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

// scanString scans a row of one text column.
func scanString(r scanner) (string, error) {
	var v string
	err := r.Scan(&v)
	return v, err
}

// nanos is how both databases store a time: Unix nanoseconds, UTC.
func nanos(t time.Time) int64 { return t.UnixNano() }

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// optionalTime is fromNanos for a column where 0 means never.
func optionalTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

// scanSigningKey scans a row of (id, algorithm, private_key, kek, created,
// retired).
func scanSigningKey(r scanner) (store.SigningKey, error) {
	var k store.SigningKey
	var created, retired int64
	if err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.KEK, &created, &retired); err != nil {
		return store.SigningKey{}, err
	}
	k.Created = fromNanos(created)
	if retired != 0 {
		k.Retired = fromNanos(retired)
	}
	return k, nil
}

// scanIdentity scans a row of (id, document, created, created_by,
// incarnation).
func scanIdentity(r scanner) (store.StoredIdentity, error) {
	var id store.StoredIdentity
	var created int64
	if err := r.Scan(&id.ID, &id.Document, &created, &id.CreatedBy, &id.Incarnation); err != nil {
		return store.StoredIdentity{}, err
	}
	id.Created = fromNanos(created)
	return id, nil
}

// scanUpload scans a row of (id, repository, owner, started, updated,
// deferred).
func scanUpload(r scanner) (store.Upload, error) {
	var u store.Upload
	var started, updated, deferred int64
	if err := r.Scan(&u.ID, &u.Repository, &u.Owner, &started, &updated, &deferred); err != nil {
		return store.Upload{}, err
	}
	u.Started, u.Updated = fromNanos(started), fromNanos(updated)
	u.Deferred = deferred != 0
	return u, nil
}

// boolInt is b as the schema keeps booleans: 1 or 0.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkUploadCaps returns ErrTooManyUploads when an owner with owned and
// a repository with inRepo open uploads may not open another under caps.
func checkUploadCaps(caps store.UploadCaps, owner string, owned, inRepo int64) error {
	switch {
	case caps.PerOwner > 0 && owner != "" && owned >= int64(caps.PerOwner):
		return fmt.Errorf("%w: the principal has %d open, the most allowed", store.ErrTooManyUploads, owned)
	case caps.PerRepository > 0 && inRepo >= int64(caps.PerRepository):
		return fmt.Errorf("%w: the repository has %d open, the most allowed", store.ErrTooManyUploads, inRepo)
	}
	return nil
}

// uploadTimes fills in an upload's default times: a zero Started is now, a
// zero Updated is Started.
func uploadTimes(u store.Upload) (started, updated int64) {
	if u.Started.IsZero() {
		u.Started = time.Now()
	}
	if u.Updated.IsZero() {
		u.Updated = u.Started
	}
	return nanos(u.Started), nanos(u.Updated)
}

// scanReferrer scans a row of (media_type, artifact_type, digest, size,
// annotations).
func scanReferrer(r scanner) (store.Descriptor, error) {
	var d store.Descriptor
	var dgst, annotations string
	if err := r.Scan(&d.MediaType, &d.ArtifactType, &dgst, &d.Size, &annotations); err != nil {
		return store.Descriptor{}, err
	}
	if err := decodeJSON(annotations, &d.Annotations); err != nil {
		return store.Descriptor{}, fmt.Errorf("annotations of %s: %w", dgst, err)
	}
	d.Digest = digest.Digest(dgst)
	return d, nil
}
