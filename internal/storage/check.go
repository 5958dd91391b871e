package storage

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// MaxUploadIDLen is the longest upload id a store accepts.
const MaxUploadIDLen = 128

// CheckDigest accepts only well-formed sha256 and sha512 digests; a store
// calls it before building any path or key from a digest. Other algorithms
// are ErrUnsupportedDigest.
func CheckDigest(dgst digest.Digest) error {
	err := dgst.Validate()
	switch {
	case errors.Is(err, digest.ErrDigestUnsupported):
		return fmt.Errorf("digest %q: %w", dgst, ErrUnsupportedDigest)
	case err != nil:
		return fmt.Errorf("invalid digest %q: %w", dgst, err)
	}
	switch dgst.Algorithm() {
	case digest.SHA256, digest.SHA512:
		return nil
	}
	return fmt.Errorf("digest %q: %w", dgst, ErrUnsupportedDigest)
}

// CheckUploadID accepts ids of 1 to MaxUploadIDLen characters from
// [A-Za-z0-9_-], so that an id can never name anything but its own
// directory or key prefix.
func CheckUploadID(id string) error {
	if len(id) == 0 || len(id) > MaxUploadIDLen {
		return fmt.Errorf("invalid upload id: length %d not in [1, %d]", len(id), MaxUploadIDLen)
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return fmt.Errorf("invalid upload id %q: character %q not allowed", id, c)
		}
	}
	return nil
}
