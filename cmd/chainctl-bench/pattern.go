package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
)

// patternBlock is the size of the random block a pattern repeats.
const patternBlock = 1 << 20

// pattern is a deterministic pseudo-random stream of a fixed size. Its bytes
// depend only on seed, so the digest can be computed in a first pass and the
// same bytes streamed again to the server, without ever holding the whole
// blob in memory.
//
// Generating 256 MiB with ChaCha8 costs about as much CPU as the server's
// digest check, which would make the client a bottleneck on two cores. So
// pattern draws one 1 MiB ChaCha8 block per seed and stamps the first 16
// bytes of every 1 MiB with (seed, block index): no two blocks in a run are
// equal, and streaming costs a memcpy.
type pattern struct {
	block []byte
	seed  uint64
	size  int64
	off   int64
}

func newPattern(seed uint64, size int64) *pattern {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	copy(key[8:], "chainctl-bench")
	block := make([]byte, min(size, patternBlock))
	rand.NewChaCha8(key).Read(block)
	return &pattern{block: block, seed: seed, size: size}
}

// Read implements io.Reader.
func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	bs := int64(len(p.block))
	n := 0
	for n < len(b) && p.off < p.size {
		idx, bo := p.off/bs, p.off%bs
		m := min(int64(len(b)-n), bs-bo, p.size-p.off)
		copy(b[n:n+int(m)], p.block[bo:bo+m])
		if bo < 16 {
			var stamp [16]byte
			binary.LittleEndian.PutUint64(stamp[:8], p.seed)
			binary.LittleEndian.PutUint64(stamp[8:], uint64(idx))
			copy(b[n:n+int(m)], stamp[bo:])
		}
		n += int(m)
		p.off += m
	}
	return n, nil
}

// patternDigest returns the sha256 digest of newPattern(seed, size).
func patternDigest(seed uint64, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, newPattern(seed, size)); err != nil {
		return "", fmt.Errorf("digest pattern %d: %w", seed, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// patternBytes returns newPattern(seed, size) in memory, for small blobs.
func patternBytes(seed uint64, size int64) []byte {
	b := make([]byte, size)
	// A pattern never fails to read and b is exactly its size.
	_, _ = io.ReadFull(newPattern(seed, size), b)
	return b
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
