package storagetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

func testUploadCommit(t *testing.T, s storage.Store) {
	tests := []struct {
		name   string
		alg    digest.Algorithm
		chunks []int64 // sizes of the successive writes
	}{
		{"no writes", digest.SHA256, nil},
		{"no writes sha512", digest.SHA512, nil},
		{"one chunk", digest.SHA256, []int64{1000}},
		{"several chunks", digest.SHA256, []int64{1, 4095, 4096, 70000, 3}},
		{"empty chunk between", digest.SHA256, []int64{10, 0, 10}},
		{"sha512 several chunks", digest.SHA512, []int64{100, 1 << 20, 7}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			p := Pattern{Seed: 100 + uint64(i)}
			id := "commit-" + strings.ReplaceAll(tt.name, " ", "-")
			if err := s.StartUpload(ctx, id); err != nil {
				t.Fatalf("StartUpload(%s) = %v, want nil", id, err)
			}
			if size, err := s.UploadSize(ctx, id); err != nil || size != 0 {
				t.Errorf("UploadSize(%s) of a new upload = %d, %v, want 0, nil", id, size, err)
			}
			var off int64
			for _, n := range tt.chunks {
				size, err := s.WriteUpload(ctx, id, off, p.Reader(off, n))
				if err != nil || size != off+n {
					t.Fatalf("WriteUpload(%s, %d) = %d, %v, want %d, nil", id, off, size, err, off+n)
				}
				off += n
				if size, err := s.UploadSize(ctx, id); err != nil || size != off {
					t.Errorf("UploadSize(%s) = %d, %v, want %d, nil", id, size, err, off)
				}
			}

			dgst := p.Digest(tt.alg, 0, off)
			checkAbsent(t, s, dgst)
			n, err := s.CommitUpload(ctx, id, dgst)
			if err != nil || n != off {
				t.Fatalf("CommitUpload(%s, %s) = %d, %v, want %d, nil", id, dgst, n, err, off)
			}
			if size, err := s.Stat(ctx, dgst); err != nil || size != off {
				t.Errorf("Stat(%s) = %d, %v, want %d, nil", dgst, size, err, off)
			}
			checkContent(t, s, dgst, p.Reader(0, off))
			checkNoUpload(t, s, id)
		})
	}
}

func testUploadOffsetMismatch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := Pattern{Seed: 200}
	const id, have = "offsets", 10
	mustStartWrite(t, s, id, p.Bytes(0, have))

	for _, off := range []int64{0, 5, have - 1, have + 1, 1 << 40, -1} {
		if _, err := s.WriteUpload(ctx, id, off, p.Reader(off, 5)); !errors.Is(err, storage.ErrOffsetMismatch) {
			t.Errorf("WriteUpload(%s, %d) with %d bytes uploaded = %v, want ErrOffsetMismatch", id, off, have, err)
		}
		if size, err := s.UploadSize(ctx, id); err != nil || size != have {
			t.Errorf("UploadSize(%s) after a rejected write at %d = %d, %v, want %d, nil", id, off, size, err, have)
		}
	}
	if size, err := s.WriteUpload(ctx, id, have, p.Reader(have, 5)); err != nil || size != have+5 {
		t.Fatalf("WriteUpload(%s, %d) = %d, %v, want %d, nil", id, have, size, err, have+5)
	}
	dgst := p.Digest(digest.SHA256, 0, have+5)
	if _, err := s.CommitUpload(ctx, id, dgst); err != nil {
		t.Fatalf("CommitUpload(%s, %s) = %v, want nil", id, dgst, err)
	}
	checkContent(t, s, dgst, p.Reader(0, have+5))

	const empty = "offsets-empty"
	if err := s.StartUpload(ctx, empty); err != nil {
		t.Fatalf("StartUpload(%s) = %v, want nil", empty, err)
	}
	if _, err := s.WriteUpload(ctx, empty, 1, strings.NewReader("x")); !errors.Is(err, storage.ErrOffsetMismatch) {
		t.Errorf("WriteUpload(%s, 1) on an empty upload = %v, want ErrOffsetMismatch", empty, err)
	}
}

func testUploadCommitMismatch(t *testing.T, s storage.Store) {
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		t.Run(alg.String(), func(t *testing.T) {
			ctx := t.Context()
			p := Pattern{Seed: 300}
			id := "mismatch-" + alg.String()
			mustStartWrite(t, s, id, p.Bytes(0, 100))

			// A digest of other bytes, and the digest of only a prefix.
			for _, wrong := range []digest.Digest{alg.FromString("other"), p.Digest(alg, 0, 99)} {
				if _, err := s.CommitUpload(ctx, id, wrong); !errors.Is(err, storage.ErrDigestMismatch) {
					t.Errorf("CommitUpload(%s, %s) = %v, want ErrDigestMismatch", id, wrong, err)
				}
				checkAbsent(t, s, wrong)
			}
			checkAbsent(t, s, p.Digest(alg, 0, 100))
			if size, err := s.UploadSize(ctx, id); err != nil || size != 100 {
				t.Fatalf("UploadSize(%s) after failed commits = %d, %v, want 100, nil", id, size, err)
			}
			// The upload goes on as if nothing happened.
			if size, err := s.WriteUpload(ctx, id, 100, p.Reader(100, 50)); err != nil || size != 150 {
				t.Fatalf("WriteUpload(%s, 100) = %d, %v, want 150, nil", id, size, err)
			}
			dgst := p.Digest(alg, 0, 150)
			if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != 150 {
				t.Fatalf("CommitUpload(%s, %s) = %d, %v, want 150, nil", id, dgst, n, err)
			}
			checkContent(t, s, dgst, p.Reader(0, 150))
		})
	}
}

// testUploadBrokenStream checks that a write that fails part way leaves
// the upload as it was, so the same chunk can be sent again.
func testUploadBrokenStream(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := Pattern{Seed: 400}
	const id, have, chunk = "broken", 1000, 3 << 20
	mustStartWrite(t, s, id, p.Bytes(0, have))

	if _, err := s.WriteUpload(ctx, id, have, failingReader{p.Reader(have, chunk)}); err == nil {
		t.Errorf("WriteUpload(%s, %d) of a failing stream = nil error, want an error", id, have)
	}
	if size, err := s.UploadSize(ctx, id); err != nil || size != have {
		t.Errorf("UploadSize(%s) after a failed write = %d, %v, want %d, nil", id, size, err, have)
	}

	cctx, cancel := context.WithCancel(ctx)
	r := &cancelAfter{r: p.Reader(have, chunk), n: chunk / 3, cancel: cancel}
	if _, err := s.WriteUpload(cctx, id, have, r); err == nil {
		t.Errorf("WriteUpload(%s, %d) cancelled midway = nil error, want an error", id, have)
	}
	if size, err := s.UploadSize(ctx, id); err != nil || size != have {
		t.Errorf("UploadSize(%s) after a cancelled write = %d, %v, want %d, nil", id, size, err, have)
	}

	if size, err := s.WriteUpload(ctx, id, have, p.Reader(have, chunk)); err != nil || size != have+chunk {
		t.Fatalf("WriteUpload(%s, %d) again = %d, %v, want %d, nil", id, have, size, err, have+chunk)
	}
	dgst := p.Digest(digest.SHA256, 0, have+chunk)
	if _, err := s.CommitUpload(ctx, id, dgst); err != nil {
		t.Fatalf("CommitUpload(%s, %s) = %v, want nil", id, dgst, err)
	}
	checkContent(t, s, dgst, p.Reader(0, have+chunk))
}

func testUploadCancel(t *testing.T, s storage.Store) {
	ctx := t.Context()
	const id = "cancel-me"
	content := []byte("never committed")
	mustStartWrite(t, s, id, content)
	if err := s.CancelUpload(ctx, id); err != nil {
		t.Fatalf("CancelUpload(%s) = %v, want nil", id, err)
	}
	checkNoUpload(t, s, id)
	checkAbsent(t, s, digest.FromBytes(content))

	// The id is free again, for a new, empty upload.
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) after cancel = %v, want nil", id, err)
	}
	if size, err := s.UploadSize(ctx, id); err != nil || size != 0 {
		t.Errorf("UploadSize(%s) of a restarted upload = %d, %v, want 0, nil", id, size, err)
	}
}

func testUploadUnknown(t *testing.T, s storage.Store) {
	checkNoUpload(t, s, "never-started")
}

// testUploadInvalidID checks that ids that could escape a backend's key
// space are refused: StartUpload fails, and since no upload can have such
// an id, every other operation reports ErrNotFound.
func testUploadInvalidID(t *testing.T, s storage.Store) {
	// Something an escaping id could damage.
	dgst := mustPut(t, s, digest.SHA256, []byte("bystander"))
	ids := []string{
		"",
		".",
		"..",
		"../x",
		"../../blobs",
		"a/b",
		`a\b`,
		"/abs",
		"a b",
		"a.b",
		"a\x00b",
		"é",
		strings.Repeat("a", 129),
	}
	for _, id := range ids {
		t.Run(strings.ToValidUTF8(id, "?"), func(t *testing.T) {
			ctx := t.Context()
			if err := s.StartUpload(ctx, id); err == nil {
				t.Errorf("StartUpload(%q) = nil error, want an error", id)
			}
			checkNoUpload(t, s, id)
		})
	}
	checkContent(t, s, dgst, strings.NewReader("bystander"))
}

func testUploadDuplicateStart(t *testing.T, s storage.Store) {
	ctx := t.Context()
	const id = "twice"
	content := []byte("first upload's bytes")
	mustStartWrite(t, s, id, content)
	if err := s.StartUpload(ctx, id); err == nil {
		t.Errorf("StartUpload(%s) of an existing upload = nil error, want an error", id)
	}
	if size, err := s.UploadSize(ctx, id); err != nil || size != int64(len(content)) {
		t.Errorf("UploadSize(%s) after a duplicate start = %d, %v, want %d, nil", id, size, err, len(content))
	}
}

func testUploadInterleaved(t *testing.T, s storage.Store) {
	ctx := t.Context()
	pa, pb := Pattern{Seed: 500}, Pattern{Seed: 501}
	ids := []string{"left", "right"}
	for _, id := range ids {
		if err := s.StartUpload(ctx, id); err != nil {
			t.Fatalf("StartUpload(%s) = %v, want nil", id, err)
		}
	}
	const chunk = 1000
	for off := int64(0); off < 5*chunk; off += chunk {
		for i, p := range []Pattern{pa, pb} {
			if _, err := s.WriteUpload(ctx, ids[i], off, p.Reader(off, chunk)); err != nil {
				t.Fatalf("WriteUpload(%s, %d) = %v, want nil", ids[i], off, err)
			}
		}
	}
	for i, p := range []Pattern{pa, pb} {
		dgst := p.Digest(digest.SHA256, 0, 5*chunk)
		if _, err := s.CommitUpload(ctx, ids[i], dgst); err != nil {
			t.Fatalf("CommitUpload(%s, %s) = %v, want nil", ids[i], dgst, err)
		}
		checkContent(t, s, dgst, p.Reader(0, 5*chunk))
	}
}

func testUploadCommitExisting(t *testing.T, s storage.Store) {
	ctx := t.Context()
	content := []byte("pushed twice")
	dgst := mustPut(t, s, digest.SHA256, content)
	const id = "again"
	mustStartWrite(t, s, id, content)
	if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != int64(len(content)) {
		t.Fatalf("CommitUpload(%s, %s) of an existing blob = %d, %v, want %d, nil", id, dgst, n, err, len(content))
	}
	checkNoUpload(t, s, id)
	checkContent(t, s, dgst, bytes.NewReader(content))
}

// testUploadConcurrentWrites sends the same first chunk many times at once:
// exactly one write may win, the others find the offset taken.
func testUploadConcurrentWrites(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := Pattern{Seed: 600}
	const id, chunk, writers = "race", 2<<20 + 1, 8
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v, want nil", id, err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			<-start
			_, errs[i] = s.WriteUpload(ctx, id, 0, slowReader{p.Reader(0, chunk)})
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrOffsetMismatch):
			t.Errorf("concurrent WriteUpload(%s, 0) #%d = %v, want nil or ErrOffsetMismatch", id, i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent WriteUpload(%s, 0) succeeded, want 1", won, id)
	}
	dgst := p.Digest(digest.SHA256, 0, chunk)
	if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != chunk {
		t.Fatalf("CommitUpload(%s, %s) = %d, %v, want %d, nil", id, dgst, n, err, chunk)
	}
	checkContent(t, s, dgst, p.Reader(0, chunk))
}

// mustStartWrite starts upload id and writes content as its first chunk.
func mustStartWrite(t *testing.T, s storage.UploadStore, id string, content []byte) {
	t.Helper()
	if err := s.StartUpload(t.Context(), id); err != nil {
		t.Fatalf("StartUpload(%s) = %v, want nil", id, err)
	}
	if size, err := s.WriteUpload(t.Context(), id, 0, bytes.NewReader(content)); err != nil || size != int64(len(content)) {
		t.Fatalf("WriteUpload(%s, 0) = %d, %v, want %d, nil", id, size, err, len(content))
	}
}

// checkNoUpload fails t unless every operation on upload id but
// StartUpload reports ErrNotFound.
func checkNoUpload(t *testing.T, s storage.UploadStore, id string) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.UploadSize(ctx, id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UploadSize(%q) = %v, want ErrNotFound", id, err)
	}
	if _, err := s.WriteUpload(ctx, id, 0, strings.NewReader("x")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("WriteUpload(%q, 0) = %v, want ErrNotFound", id, err)
	}
	if _, err := s.CommitUpload(ctx, id, digest.FromString("x")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CommitUpload(%q) = %v, want ErrNotFound", id, err)
	}
	if err := s.CancelUpload(ctx, id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CancelUpload(%q) = %v, want ErrNotFound", id, err)
	}
}

// slowReader hands out small reads and yields between them, so that
// concurrent writers overlap.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	runtime.Gosched()
	return s.r.Read(p[:min(len(p), 16<<10)])
}
