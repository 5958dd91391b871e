package fs_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

// TestQuarantine: a quarantined blob is missing, its bytes are kept under
// root/quarantine, and putting it again stores it afresh.
func TestQuarantine(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	ctx := t.Context()
	content := "layer bytes"
	dgst := digest.FromString(content)
	if _, err := s.Put(ctx, dgst, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	where, err := s.Quarantine(ctx, dgst)
	if err != nil {
		t.Fatalf("Quarantine = %v", err)
	}
	if filepath.Dir(where) != filepath.Join(root, "quarantine") {
		t.Errorf("quarantined at %s, want under %s", where, filepath.Join(root, "quarantine"))
	}
	if b, err := os.ReadFile(where); err != nil || string(b) != content {
		t.Errorf("quarantined bytes = %q, %v, want %q", b, err, content)
	}
	if _, err := s.Stat(ctx, dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of a quarantined blob = %v, want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, dgst, 0, -1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open of a quarantined blob = %v, want ErrNotFound", err)
	}
	if _, err := s.Quarantine(ctx, dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Quarantine of a missing blob = %v, want ErrNotFound", err)
	}
	if _, err := s.Put(ctx, dgst, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	checkDigest(t, s, dgst)
}

// writerOnly hides a writer's ReadFrom.
type writerOnly struct{ io.Writer }

// TestOpenWriteTo: a range copied to a writer that reads from others (a
// file here, as an HTTP response is) or to a plain writer is the range,
// also after part of it was read.
func TestOpenWriteTo(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := t.Context()
	content := strings.Repeat("0123456789", 10000)
	dgst := digest.FromString(content)
	if _, err := s.Put(ctx, dgst, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		off, length int64
		skip        int // read by Read before the copy
	}{{0, -1, 0}, {0, -1, 700}, {12345, 5000, 0}, {12345, 5000, 100}, {int64(len(content)), -1, 0}} {
		want := content[tt.off:]
		if tt.length >= 0 {
			want = want[:tt.length]
		}
		for _, plain := range []bool{false, true} {
			rc, err := s.Open(ctx, dgst, tt.off, tt.length)
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, tt.skip)
			if _, err := io.ReadFull(rc, head); err != nil {
				t.Fatal(err)
			}
			var got []byte
			if plain {
				var buf bytes.Buffer
				_, err = io.Copy(writerOnly{&buf}, rc)
				got = buf.Bytes()
			} else {
				f, ferr := os.CreateTemp(t.TempDir(), "dst")
				if ferr != nil {
					t.Fatal(ferr)
				}
				_, err = io.Copy(f, rc)
				f.Close()
				got, _ = os.ReadFile(f.Name())
			}
			rc.Close()
			if err != nil || string(head)+string(got) != want {
				t.Errorf("range %d+%d, %d read first, plain=%v: copied %d bytes (%v), want %d", tt.off, tt.length, tt.skip, plain, len(got), err, len(want)-tt.skip)
			}
		}
	}
}
