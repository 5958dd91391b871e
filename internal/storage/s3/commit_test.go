package s3

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/storagetest"
	"github.com/opencontainers/go-digest"
)

// TestCommitResume checks that a commit interrupted after it completed the
// multipart upload is finished by the next CommitUpload: whether or not the
// completion was recorded in the state, and whether or not a trailing part
// was still to send.
func TestCommitResume(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		size     int64
		recorded bool // the state says Completed
	}{
		{"recorded", 2*MinPartSize + 100, true},
		{"not recorded, with a trailing part", 2*MinPartSize + 100, false},
		{"not recorded, parts only", 2 * MinPartSize, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := e.newStore(t, e.config(t))
			p := storagetest.Pattern{Seed: 7000 + uint64(i)}
			id := fmt.Sprintf("resume-%d", i)
			if err := s.StartUpload(ctx, id); err != nil {
				t.Fatalf("StartUpload(%s) = %v", id, err)
			}
			writeChunks(t, s, id, p, 0, []int64{tt.size})

			// What an interrupted commit leaves behind.
			prefix := s.prefix + uploadsDir + id + "/"
			st, etag, err := s.loadState(ctx, prefix)
			if err != nil {
				t.Fatalf("load state: %v", err)
			}
			if err := s.completeUpload(ctx, prefix+dataName, st); err != nil {
				t.Fatalf("complete upload: %v", err)
			}
			if tt.recorded {
				st.Completed = true
				if _, err := s.saveState(ctx, prefix, st, etag); err != nil {
					t.Fatalf("save state: %v", err)
				}
			}

			dgst := p.Digest(digest.SHA256, 0, tt.size)
			if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != tt.size {
				t.Fatalf("CommitUpload(%s, %s) after an interrupted commit = %d, %v, want %d, nil", id, dgst, n, err, tt.size)
			}
			checkBlob(t, s, dgst, p, tt.size)
			checkNoLeftovers(t, s)
		})
	}
	if v := e.proxy.Violations(); len(v) > 0 {
		t.Errorf("R2 rules violated: %q", v)
	}
}

// TestCommitSHA512Multipart: the upload state hashes SHA-256 only, so a
// SHA-512 digest of an upload of several parts is checked by reading the
// completed bytes back: a wrong one is refused and stores nothing, and the
// right one then commits the blob.
func TestCommitSHA512Multipart(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	const id, size = "sha512-parts", 2*MinPartSize + 77
	p := storagetest.Pattern{Seed: 8100}
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, id, 0, p.Reader(0, size)); err != nil {
		t.Fatal(err)
	}
	wrong := p.Digest(digest.SHA512, 0, size-1)
	if _, err := s.CommitUpload(ctx, id, wrong); !errors.Is(err, storage.ErrDigestMismatch) {
		t.Fatalf("CommitUpload(a wrong sha512) = %v, want ErrDigestMismatch", err)
	}
	if _, err := s.Stat(ctx, wrong); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(the wrong digest) = %v, want ErrNotFound", err)
	}
	right := p.Digest(digest.SHA512, 0, size)
	if n, err := s.CommitUpload(ctx, id, right); err != nil || n != size {
		t.Fatalf("CommitUpload(the right sha512) = %d, %v", n, err)
	}
	rc, err := s.Open(ctx, right, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, p.Bytes(0, size)) {
		t.Errorf("Open(%s): %d bytes, %v; want the upload's %d", right, len(got), err, size)
	}
}

// TestVersion1StateContinues: an upload begun by a chainctl whose state
// hashed SHA-512 too (version 1) is continued in that form, so that either
// version can take its next chunk, and commits under either digest.
func TestVersion1StateContinues(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	p := storagetest.Pattern{Seed: 8200}
	const id = "version-1"
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	prefix, err := s.uploadPrefix(id)
	if err != nil {
		t.Fatal(err)
	}
	st, etag, err := s.loadState(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	st.Version = 1
	if err := st.setHashes(sha256.New(), sha512.New()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.saveState(ctx, prefix, st, etag); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, id, 0, p.Reader(0, 1000)); err != nil {
		t.Fatal(err)
	}
	st, _, err = s.loadState(ctx, prefix)
	if err != nil || st.Version != 1 || len(st.SHA512) == 0 {
		t.Fatalf("state after a write: version %d, %d bytes of SHA-512 state, %v; want version 1 with it", st.Version, len(st.SHA512), err)
	}
	if got, err := st.digest(digest.SHA512); err != nil || got != p.Digest(digest.SHA512, 0, 1000) {
		t.Errorf("digest(sha512) of a version 1 state = %s, %v; want it from the state", got, err)
	}
	dgst := p.Digest(digest.SHA512, 0, 1000)
	if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != 1000 {
		t.Fatalf("CommitUpload = %d, %v", n, err)
	}
}
