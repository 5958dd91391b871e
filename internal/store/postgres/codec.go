package postgres

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// The column encodings are the SQLite backend's, so that a row means the
// same in both databases and data can move from one to the other as is.

// encodeDigests stores a list of digests as lines. Empty is "".
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
