package sqlstore

// How a manifest's lists and maps are stored in text columns: one
// encoding for both databases, so that a row means the same in either and
// data can move between them as is.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// encodeDigests stores a list of digests as lines, which decode several
// times faster than JSON on the manifest read path. Empty is "".
func encodeDigests(ds []digest.Digest) (string, error) {
	var b strings.Builder
	for i, d := range ds {
		if d == "" || strings.ContainsAny(string(d), "\n") {
			return "", fmt.Errorf("invalid digest %q", d)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(string(d))
	}
	return b.String(), nil
}

// decodeDigests is the inverse of encodeDigests; "" is nil.
func decodeDigests(s string) []digest.Digest {
	if s == "" {
		return nil
	}
	ds := make([]digest.Digest, 0, strings.Count(s, "\n")+1)
	for line := range strings.SplitSeq(s, "\n") {
		ds = append(ds, digest.Digest(line))
	}
	return ds
}

// encodeJSON stores an empty map or slice (n elements) as "", so rows
// without annotations cost nothing to decode.
func encodeJSON(v any, n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// decodeJSON is the inverse of encodeJSON: "" leaves v untouched (nil).
func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// manifestRow is a store.Manifest's columns as both databases hold them.
type manifestRow struct {
	Annotations, Blobs, Children string
	// Created is m.Created, or now when that is zero.
	Created time.Time
	// Content is never nil: the column is NOT NULL.
	Content []byte
}

// encodeManifest checks m and encodes its columns; now stands in for a
// zero creation time.
func encodeManifest(m *store.Manifest, now time.Time) (manifestRow, error) {
	if m == nil || m.Repository == "" || m.Digest == "" {
		return manifestRow{}, errors.New("put manifest: missing repository or digest")
	}
	var r manifestRow
	var err error
	if r.Annotations, err = encodeJSON(m.Annotations, len(m.Annotations)); err != nil {
		return manifestRow{}, fmt.Errorf("put manifest %s@%s: annotations: %w", m.Repository, m.Digest, err)
	}
	if r.Blobs, err = encodeDigests(m.Blobs); err != nil {
		return manifestRow{}, fmt.Errorf("put manifest %s@%s: blobs: %w", m.Repository, m.Digest, err)
	}
	if r.Children, err = encodeDigests(m.Children); err != nil {
		return manifestRow{}, fmt.Errorf("put manifest %s@%s: children: %w", m.Repository, m.Digest, err)
	}
	r.Created = m.Created
	if r.Created.IsZero() {
		r.Created = now
	}
	r.Content = m.Content
	if r.Content == nil {
		r.Content = []byte{}
	}
	return r, nil
}
