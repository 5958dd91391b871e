package storagetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

// Pattern is a deterministic, incompressible byte stream of any length that
// is never held in memory: byte i depends only on Seed and i, so any range
// can be produced on its own (chunks of an upload, a ranged read) and two
// different ranges never look alike.
type Pattern struct {
	Seed uint64
}

// Reader returns the n bytes of the stream that start at off.
func (p Pattern) Reader(off, n int64) io.Reader {
	return &patternReader{seed: p.Seed, off: off, end: off + n}
}

// Bytes returns the n bytes at off, for sizes that fit in memory.
func (p Pattern) Bytes(off, n int64) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.Reader(off, n), b); err != nil {
		panic(err) // the reader cannot fail
	}
	return b
}

// Digest returns the digest under alg of the n bytes at off, computed by
// streaming.
func (p Pattern) Digest(alg digest.Algorithm, off, n int64) digest.Digest {
	d, err := alg.FromReader(p.Reader(off, n))
	if err != nil {
		panic(err) // the reader cannot fail
	}
	return d
}

type patternReader struct {
	seed     uint64
	off, end int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if rem := r.end - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	var word [8]byte
	n := 0
	for n < len(p) {
		binary.LittleEndian.PutUint64(word[:], splitmix64(r.seed+uint64(r.off>>3)))
		c := copy(p[n:], word[r.off&7:])
		n += c
		r.off += int64(c)
	}
	return n, nil
}

// splitmix64 is the SplitMix64 finalizer: a cheap bijection that turns a
// counter into well-mixed bits.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// errStream is what failingReader returns after its bytes.
var errStream = errors.New("storagetest: stream broken")

// failingReader yields r's bytes and then fails instead of ending.
type failingReader struct {
	r io.Reader
}

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errStream
	}
	return n, err
}

// sameStream reports whether got and want hold the same bytes, reading
// both in fixed-size pieces.
func sameStream(got, want io.Reader) error {
	const size = 64 << 10
	gb, wb := make([]byte, size), make([]byte, size)
	var off int64
	for {
		gn, gerr := io.ReadFull(got, gb)
		wn, werr := io.ReadFull(want, wb)
		if gerr != nil && !errors.Is(gerr, io.EOF) && !errors.Is(gerr, io.ErrUnexpectedEOF) {
			return fmt.Errorf("read at %d: %w", off, gerr)
		}
		if werr != nil && !errors.Is(werr, io.EOF) && !errors.Is(werr, io.ErrUnexpectedEOF) {
			return fmt.Errorf("read expected at %d: %w", off, werr)
		}
		if !bytes.Equal(gb[:gn], wb[:wn]) {
			m := min(gn, wn)
			for i := range m {
				if gb[i] != wb[i] {
					return fmt.Errorf("bytes differ at %d", off+int64(i))
				}
			}
			return fmt.Errorf("got %d bytes, want %d", off+int64(gn), off+int64(wn))
		}
		off += int64(gn)
		if gerr != nil || werr != nil {
			return nil
		}
	}
}

// checkContent fails t unless the blob dgst reads as want.
func checkContent(t *testing.T, s storage.BlobStore, dgst digest.Digest, want io.Reader) {
	t.Helper()
	rc, err := s.Open(t.Context(), dgst, 0, -1)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", dgst, err)
	}
	defer rc.Close()
	if err := sameStream(rc, want); err != nil {
		t.Errorf("Open(%s): %v", dgst, err)
	}
}
