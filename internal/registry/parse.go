package registry

import (
	"errors"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// validTag reports whether s matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func validTag(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' ||
			i > 0 && (c == '.' || c == '-')
		if !ok {
			return false
		}
	}
	return true
}

// parseDigest accepts only the digests the registry can verify: sha256 and
// sha512 with lower-case hex of the right length. Anything else is rejected
// before it can become part of a storage key.
func parseDigest(s string) (digest.Digest, error) {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok {
		return "", errors.New("digest must be algorithm:hex")
	}
	var want int
	switch alg {
	case "sha256":
		want = 64
	case "sha512":
		want = 128
	default:
		return "", errors.New("unsupported digest algorithm " + strconv.Quote(alg) + " (sha256 and sha512 are)")
	}
	if len(hex) != want {
		return "", errors.New("digest hex has the wrong length for " + alg)
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", errors.New("digest hex must be lower-case hexadecimal")
		}
	}
	return digest.Digest(s), nil
}

// reference is a manifest reference: a tag or a digest, never both.
type reference struct {
	tag    string
	digest digest.Digest
}

func (r reference) String() string {
	if r.digest != "" {
		return string(r.digest)
	}
	return r.tag
}

// parseReference parses the <reference> of /v2/<name>/manifests/<reference>.
func parseReference(s string) (reference, error) {
	if strings.Contains(s, ":") {
		d, err := parseDigest(s)
		if err != nil {
			return reference{}, err
		}
		return reference{digest: d}, nil
	}
	if !validTag(s) {
		return reference{}, errors.New("invalid tag")
	}
	return reference{tag: s}, nil
}

// parseContentRange parses a chunk's Content-Range header. The spec's form
// is "<start>-<end>" (inclusive); "bytes <start>-<end>[/<size>]" and
// "bytes=<start>-<end>" are accepted too because clients send them.
func parseContentRange(s string) (start, end int64, err error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "bytes"); ok {
		s = strings.TrimLeft(rest, " =")
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("Content-Range must be <start>-<end>")
	}
	start, err1 := parseUint(a)
	end, err2 := parseUint(b)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("Content-Range must be <start>-<end> with decimal offsets")
	}
	if end < start {
		return 0, 0, errors.New("Content-Range end is before its start")
	}
	return start, end, nil
}

func parseUint(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, errors.New("bad number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("bad number")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// errRangeNotSatisfiable means a Range header cannot be served for the blob.
var errRangeNotSatisfiable = errors.New("range not satisfiable")

// parseRange parses a single-range HTTP Range header (RFC 9110 §14.1.2)
// for a blob of the given size and returns the offset and length to serve.
// ok is false when the header should be ignored (not a bytes range, or
// several ranges) and the whole blob served.
func parseRange(h string, size int64) (off, n int64, ok bool, err error) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, errRangeNotSatisfiable
	}
	if a == "" { // suffix: the last b bytes
		k, err := parseUint(b)
		if err != nil || k == 0 || size == 0 {
			return 0, 0, false, errRangeNotSatisfiable
		}
		k = min(k, size)
		return size - k, k, true, nil
	}
	start, err := parseUint(a)
	if err != nil || start >= size {
		return 0, 0, false, errRangeNotSatisfiable
	}
	end := size - 1
	if b != "" {
		e, err := parseUint(b)
		if err != nil || e < start {
			return 0, 0, false, errRangeNotSatisfiable
		}
		end = min(e, size-1)
	}
	return start, end - start + 1, true, nil
}
