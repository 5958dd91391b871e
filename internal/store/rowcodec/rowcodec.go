// Package rowcodec is how the SQL metadata backends (SQLite, PostgreSQL)
// store a manifest's lists and maps in text columns, one encoding for both
// so that a row means the same in either database and data can move
// between them as is.
package rowcodec

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// EncodeDigests stores a list of digests as lines, which decode several
// times faster than JSON on the manifest read path. Empty is "".
func EncodeDigests(ds []digest.Digest) (string, error) {
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

// DecodeDigests is the inverse of EncodeDigests; "" is nil.
func DecodeDigests(s string) []digest.Digest {
	if s == "" {
		return nil
	}
	ds := make([]digest.Digest, 0, strings.Count(s, "\n")+1)
	for line := range strings.SplitSeq(s, "\n") {
		ds = append(ds, digest.Digest(line))
	}
	return ds
}

// EncodeJSON stores an empty map or slice (n elements) as "", so rows
// without annotations cost nothing to decode.
func EncodeJSON(v any, n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// DecodeJSON is the inverse of EncodeJSON: "" leaves v untouched (nil).
func DecodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
