// Package storagetest is the conformance suite for storage.Store backends.
// Every backend (filesystem, S3, R2) runs the same Run from its own tests,
// so they agree on the contract in package storage, including the parts a
// type system cannot state: digest verification, ranges, offsets, errors.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

// largeSize is the blob size of the streaming tests: large enough that a
// backend holding a blob in memory shows, small enough for CI.
const largeSize = 64 << 20

// Run runs the suite. newStore returns a new, empty store for each subtest;
// it registers its own cleanup with t. Subtests run in parallel, and the
// streaming tests (largeSize bytes each) are skipped under -short.
//
// The suite does not import crypto/sha512 itself: go-digest only knows
// sha512 once something registers it, and that must be the backend, or
// sha512 digests would work in its tests and be rejected in production.
// A backend that forgets it makes the suite panic.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"PutStatOpen", testPutStatOpen},
		{"OpenRange", testOpenRange},
		{"PutMismatch", testPutMismatch},
		{"PutBrokenStream", testPutBrokenStream},
		{"InvalidDigest", testInvalidDigest},
		{"PutIdempotent", testPutIdempotent},
		{"Delete", testDelete},
		{"ConcurrentPut", testConcurrentPut},
		{"UploadCommit", testUploadCommit},
		{"UploadOffsetMismatch", testUploadOffsetMismatch},
		{"UploadCommitMismatch", testUploadCommitMismatch},
		{"UploadBrokenStream", testUploadBrokenStream},
		{"UploadCancel", testUploadCancel},
		{"UploadUnknown", testUploadUnknown},
		{"UploadInvalidID", testUploadInvalidID},
		{"UploadDuplicateStart", testUploadDuplicateStart},
		{"UploadInterleaved", testUploadInterleaved},
		{"UploadCommitExisting", testUploadCommitExisting},
		{"UploadConcurrentWrites", testUploadConcurrentWrites},
		{"Large", testLarge},
		{"WalkBlobs", testWalkBlobs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func testPutStatOpen(t *testing.T, s storage.Store) {
	tests := []struct {
		name    string
		alg     digest.Algorithm
		content []byte
	}{
		{"empty", digest.SHA256, nil},
		{"small", digest.SHA256, []byte("hello, blob")},
		{"sha512", digest.SHA512, []byte("hello, sha512 blob")},
		{"sha512 empty", digest.SHA512, nil},
		{"one MiB and a bit", digest.SHA256, Pattern{Seed: 1}.Bytes(0, 1<<20+3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			dgst := tt.alg.FromBytes(tt.content)
			if _, err := s.Stat(ctx, dgst); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Stat(%s) before Put = %v, want ErrNotFound", dgst, err)
			}
			if _, err := s.Open(ctx, dgst, 0, -1); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Open(%s) before Put = %v, want ErrNotFound", dgst, err)
			}
			n, err := s.Put(ctx, dgst, bytes.NewReader(tt.content))
			if err != nil || n != int64(len(tt.content)) {
				t.Fatalf("Put(%s) = %d, %v, want %d, nil", dgst, n, err, len(tt.content))
			}
			if size, err := s.Stat(ctx, dgst); err != nil || size != int64(len(tt.content)) {
				t.Errorf("Stat(%s) = %d, %v, want %d, nil", dgst, size, err, len(tt.content))
			}
			checkContent(t, s, dgst, bytes.NewReader(tt.content))
		})
	}
}

func testOpenRange(t *testing.T, s storage.Store) {
	const size = 1000
	content := Pattern{Seed: 2}.Bytes(0, size)
	dgst := mustPut(t, s, digest.SHA256, content)

	tests := []struct {
		name           string
		offset, length int64
		want           []byte // nil with wantErr
		wantErr        bool
	}{
		{name: "all", offset: 0, length: -1, want: content},
		{name: "all by length", offset: 0, length: size, want: content},
		{name: "head", offset: 0, length: 10, want: content[:10]},
		{name: "middle", offset: 100, length: 50, want: content[100:150]},
		{name: "tail to end", offset: 990, length: -1, want: content[990:]},
		{name: "length beyond end", offset: 990, length: 100, want: content[990:]},
		{name: "zero length", offset: 10, length: 0, want: []byte{}},
		{name: "offset at end", offset: size, length: -1, want: []byte{}},
		{name: "offset at end with length", offset: size, length: 5, want: []byte{}},
		{name: "offset beyond end", offset: size + 1, length: -1, wantErr: true},
		{name: "negative offset", offset: -1, length: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := s.Open(t.Context(), dgst, tt.offset, tt.length)
			if tt.wantErr {
				if err == nil {
					rc.Close()
					t.Fatalf("Open(%s, %d, %d) = nil error, want an error", dgst, tt.offset, tt.length)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%s, %d, %d) = %v, want nil", dgst, tt.offset, tt.length, err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("read Open(%s, %d, %d): %v", dgst, tt.offset, tt.length, err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("Open(%s, %d, %d) read %d bytes, want %d (content differs: %t)",
					dgst, tt.offset, tt.length, len(got), len(tt.want), len(got) == len(tt.want))
			}
		})
	}
}

func testPutMismatch(t *testing.T, s storage.Store) {
	content := []byte("the promised bytes")
	tests := []struct {
		name string
		dgst digest.Digest
		body []byte
	}{
		{"other bytes", digest.FromBytes(content), []byte("some other bytes!!")},
		{"truncated", digest.FromBytes(content), content[:5]},
		{"extra bytes", digest.FromBytes(content), append(append([]byte{}, content...), 'x')},
		{"empty body", digest.FromBytes(content), nil},
		{"sha512", digest.SHA512.FromBytes(content), []byte("some other bytes!!")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if _, err := s.Put(ctx, tt.dgst, bytes.NewReader(tt.body)); !errors.Is(err, storage.ErrDigestMismatch) {
				t.Errorf("Put(%s) = %v, want ErrDigestMismatch", tt.dgst, err)
			}
			checkAbsent(t, s, tt.dgst)
			// The body's own digest must not have been committed either.
			checkAbsent(t, s, tt.dgst.Algorithm().FromBytes(tt.body))
		})
	}

	t.Run("existing blob", func(t *testing.T) {
		ctx := t.Context()
		dgst := mustPut(t, s, digest.SHA256, []byte("already here"))
		if _, err := s.Put(ctx, dgst, strings.NewReader("impostor!!!!")); !errors.Is(err, storage.ErrDigestMismatch) {
			t.Errorf("Put(%s) of other bytes over an existing blob = %v, want ErrDigestMismatch", dgst, err)
		}
		checkContent(t, s, dgst, strings.NewReader("already here"))
	})
}

func testPutBrokenStream(t *testing.T, s storage.Store) {
	p := Pattern{Seed: 3}
	const size = 4 << 20
	dgst := p.Digest(digest.SHA256, 0, size)

	t.Run("reader error", func(t *testing.T) {
		_, err := s.Put(t.Context(), dgst, failingReader{p.Reader(0, size)})
		if err == nil {
			t.Errorf("Put(%s) of a failing stream = nil error, want an error", dgst)
		}
		checkAbsent(t, s, dgst)
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Put(ctx, dgst, p.Reader(0, size)); err == nil {
			t.Errorf("Put(%s) with a cancelled context = nil error, want an error", dgst)
		}
		checkAbsent(t, s, dgst)
	})
	t.Run("cancelled midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		r := &cancelAfter{r: p.Reader(0, size), n: size / 4, cancel: cancel}
		if _, err := s.Put(ctx, dgst, r); err == nil {
			t.Errorf("Put(%s) cancelled midway = nil error, want an error", dgst)
		}
		checkAbsent(t, s, dgst)
	})
}

func testInvalidDigest(t *testing.T, s storage.Store) {
	hex64 := strings.Repeat("ab", 32)
	tests := []struct {
		name        string
		dgst        digest.Digest
		unsupported bool
	}{
		{name: "empty", dgst: ""},
		{name: "no algorithm", dgst: digest.Digest(hex64)},
		{name: "no hex", dgst: "sha256:"},
		{name: "short hex", dgst: "sha256:abc"},
		{name: "upper-case hex", dgst: digest.Digest("sha256:" + strings.ToUpper(hex64))},
		{name: "path in hex", dgst: "sha256:../../../../etc/passwd"},
		{name: "slash in hex", dgst: digest.Digest("sha256:" + hex64[:30] + "/" + hex64[31:])},
		{name: "sha512 with sha256 length", dgst: digest.Digest("sha512:" + hex64)},
		{name: "upper-case algorithm", dgst: digest.Digest("SHA256:" + hex64)},
		{name: "sha384", dgst: digest.Digest("sha384:" + strings.Repeat("ab", 48)), unsupported: true},
		{name: "md5", dgst: digest.Digest("md5:" + strings.Repeat("ab", 16)), unsupported: true},
		{name: "unknown algorithm", dgst: digest.Digest("blake3:" + hex64), unsupported: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			check := func(op string, err error) {
				t.Helper()
				switch {
				case err == nil:
					t.Errorf("%s(%q) = nil error, want an error", op, tt.dgst)
				case tt.unsupported && !errors.Is(err, storage.ErrUnsupportedDigest):
					t.Errorf("%s(%q) = %v, want ErrUnsupportedDigest", op, tt.dgst, err)
				case errors.Is(err, storage.ErrNotFound):
					t.Errorf("%s(%q) = %v, want an invalid digest error, not ErrNotFound", op, tt.dgst, err)
				}
			}
			_, err := s.Put(ctx, tt.dgst, strings.NewReader("x"))
			check("Put", err)
			_, err = s.Stat(ctx, tt.dgst)
			check("Stat", err)
			rc, err := s.Open(ctx, tt.dgst, 0, -1)
			if err == nil {
				rc.Close()
			}
			check("Open", err)
			check("Delete", s.Delete(ctx, tt.dgst))

			id := fmt.Sprintf("invalid-digest-%d", i)
			mustStartWrite(t, s, id, []byte("x"))
			_, err = s.CommitUpload(ctx, id, tt.dgst)
			check("CommitUpload", err)
			if size, err := s.UploadSize(ctx, id); err != nil || size != 1 {
				t.Errorf("UploadSize(%s) after a failed commit = %d, %v, want 1, nil", id, size, err)
			}
			if err := s.CancelUpload(ctx, id); err != nil {
				t.Errorf("CancelUpload(%s) = %v, want nil", id, err)
			}
		})
	}
}

func testPutIdempotent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		content := []byte("put me twice with " + alg.String())
		dgst := alg.FromBytes(content)
		for i := range 3 {
			n, err := s.Put(ctx, dgst, bytes.NewReader(content))
			if err != nil || n != int64(len(content)) {
				t.Errorf("Put(%s) #%d = %d, %v, want %d, nil", dgst, i+1, n, err, len(content))
			}
		}
		checkContent(t, s, dgst, bytes.NewReader(content))
	}
}

func testDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	content := []byte("delete me")
	dgst := mustPut(t, s, digest.SHA256, content)
	keep := mustPut(t, s, digest.SHA256, []byte("keep me"))

	if err := s.Delete(ctx, dgst); err != nil {
		t.Fatalf("Delete(%s) = %v, want nil", dgst, err)
	}
	checkAbsent(t, s, dgst)
	if err := s.Delete(ctx, dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Delete(%s) twice = %v, want ErrNotFound", dgst, err)
	}
	never := digest.FromString("never stored")
	if err := s.Delete(ctx, never); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Delete(%s) of a missing blob = %v, want ErrNotFound", never, err)
	}
	checkContent(t, s, keep, strings.NewReader("keep me"))

	// A deleted blob can come back.
	mustPut(t, s, digest.SHA256, content)
	checkContent(t, s, dgst, bytes.NewReader(content))
}

func testConcurrentPut(t *testing.T, s storage.Store) {
	p := Pattern{Seed: 4}
	const size = 1<<20 + 17
	dgst := p.Digest(digest.SHA256, 0, size)
	const good, bad = 8, 2

	var wg sync.WaitGroup
	errs := make([]error, good+bad)
	for i := range good + bad {
		wg.Go(func() {
			r := p.Reader(0, size)
			if i >= good {
				r = Pattern{Seed: 5}.Reader(0, size)
			}
			_, errs[i] = s.Put(t.Context(), dgst, r)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i < good && err != nil {
			t.Errorf("concurrent Put(%s) #%d = %v, want nil", dgst, i, err)
		}
		if i >= good && !errors.Is(err, storage.ErrDigestMismatch) {
			t.Errorf("concurrent Put(%s) #%d of other bytes = %v, want ErrDigestMismatch", dgst, i, err)
		}
	}
	if got, err := s.Stat(t.Context(), dgst); err != nil || got != size {
		t.Errorf("Stat(%s) = %d, %v, want %d, nil", dgst, got, err, size)
	}
	checkContent(t, s, dgst, p.Reader(0, size))
}

// testLarge streams largeSize bytes through Put, ranged reads and chunked
// uploads, from a generator and into a comparator, never holding a blob in
// the test's memory.
func testLarge(t *testing.T, s storage.Store) {
	if testing.Short() {
		t.Skip("streams large blobs; skipped with -short")
	}
	ctx := t.Context()

	t.Run("Put", func(t *testing.T) {
		p := Pattern{Seed: 10}
		dgst := p.Digest(digest.SHA256, 0, largeSize)
		n, err := s.Put(ctx, dgst, p.Reader(0, largeSize))
		if err != nil || n != largeSize {
			t.Fatalf("Put(%s) = %d, %v, want %d, nil", dgst, n, err, largeSize)
		}
		if size, err := s.Stat(ctx, dgst); err != nil || size != largeSize {
			t.Errorf("Stat(%s) = %d, %v, want %d, nil", dgst, size, err, largeSize)
		}
		checkContent(t, s, dgst, p.Reader(0, largeSize))

		const off, length = largeSize/2 + 3, 5<<20 + 1
		rc, err := s.Open(ctx, dgst, off, length)
		if err != nil {
			t.Fatalf("Open(%s, %d, %d) = %v, want nil", dgst, off, length, err)
		}
		defer rc.Close()
		if err := sameStream(rc, p.Reader(off, length)); err != nil {
			t.Errorf("Open(%s, %d, %d): %v", dgst, off, length, err)
		}
	})

	tests := []struct {
		name  string
		alg   digest.Algorithm
		chunk int64
	}{
		{"upload sha256 8MiB chunks", digest.SHA256, 8 << 20},
		{"upload sha512 uneven chunks", digest.SHA512, 7<<20 + 5},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Pattern{Seed: 11 + uint64(i)}
			dgst := p.Digest(tt.alg, 0, largeSize)
			id := "large-" + tt.alg.String()
			if err := s.StartUpload(ctx, id); err != nil {
				t.Fatalf("StartUpload(%s) = %v, want nil", id, err)
			}
			for off := int64(0); off < largeSize; off += tt.chunk {
				n := min(tt.chunk, largeSize-off)
				size, err := s.WriteUpload(ctx, id, off, p.Reader(off, n))
				if err != nil || size != off+n {
					t.Fatalf("WriteUpload(%s, %d) = %d, %v, want %d, nil", id, off, size, err, off+n)
				}
			}
			n, err := s.CommitUpload(ctx, id, dgst)
			if err != nil || n != largeSize {
				t.Fatalf("CommitUpload(%s, %s) = %d, %v, want %d, nil", id, dgst, n, err, largeSize)
			}
			checkContent(t, s, dgst, p.Reader(0, largeSize))
		})
	}
}

// mustPut stores content under its alg digest and returns the digest.
func mustPut(t *testing.T, s storage.BlobStore, alg digest.Algorithm, content []byte) digest.Digest {
	t.Helper()
	dgst := alg.FromBytes(content)
	if n, err := s.Put(t.Context(), dgst, bytes.NewReader(content)); err != nil || n != int64(len(content)) {
		t.Fatalf("Put(%s) = %d, %v, want %d, nil", dgst, n, err, len(content))
	}
	return dgst
}

// checkAbsent fails t unless Stat and Open both report dgst missing.
func checkAbsent(t *testing.T, s storage.BlobStore, dgst digest.Digest) {
	t.Helper()
	if _, err := s.Stat(t.Context(), dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(%s) = %v, want ErrNotFound", dgst, err)
	}
	rc, err := s.Open(t.Context(), dgst, 0, -1)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open(%s) = %v, want ErrNotFound", dgst, err)
	}
}

// cancelAfter reads r and calls cancel once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}
