package registry

import (
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// holdBack is how much of a blob copyVerified keeps back until the whole
// blob has been hashed: at least one read's worth, so that the last bytes
// are never sent before the digest is known.
const holdBack = 64 << 10

// errCorrupt means stored bytes do not hash to their digest.
var errCorrupt = errors.New("stored bytes do not match the digest")

// copyVerified copies the size bytes of the blob dgst from r to w while
// hashing them, and writes the last holdBack bytes only once the digest
// matched. A short read, a read error or a mismatch returns an error with
// at least the tail unwritten: with Content-Length set, the client can
// never take the response for a complete, valid blob. Memory stays at two
// buffers whatever the blob's size.
func copyVerified(w io.Writer, r io.Reader, dgst digest.Digest, size int64) error {
	if !dgst.Algorithm().Available() {
		return fmt.Errorf("cannot verify %s: hash unavailable", dgst)
	}
	v := dgst.Verifier()
	// buf[:n] holds bytes read but not yet written; after each write n is
	// holdBack, so every read has at least holdBack bytes of room.
	buf := make([]byte, 2*holdBack)
	n := 0
	var total int64
	for {
		k, err := r.Read(buf[n:])
		if k > 0 {
			_, _ = v.Write(buf[n : n+k])
			total += int64(k)
			n += k
			if over := n - holdBack; over > 0 {
				if _, werr := w.Write(buf[:over]); werr != nil {
					return werr
				}
				n = copy(buf, buf[over:n])
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read blob: %w", err)
		}
	}
	if total != size {
		return fmt.Errorf("read blob: got %d bytes, want %d", total, size)
	}
	if !v.Verified() {
		return errCorrupt
	}
	_, err := w.Write(buf[:n])
	return err
}

// clientWriter remembers whether writing to the client failed, so that a
// client hanging up is told apart from storage failing or lying.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
