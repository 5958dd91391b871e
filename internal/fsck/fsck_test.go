package fsck_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
)

// seed puts blobs of the given contents in a filesystem store at root.
func seed(t *testing.T, root string, contents ...string) (*fs.Store, []digest.Digest) {
	t.Helper()
	s, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	var ds []digest.Digest
	for _, c := range contents {
		d := digest.FromString(c)
		if _, err := s.Put(t.Context(), d, strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return s, ds
}

// corrupt overwrites the first byte of a stored blob, as a failing disk
// or a hand in the directory might.
func corrupt(t *testing.T, root string, d digest.Digest) {
	t.Helper()
	p := filepath.Join(root, "blobs", d.Algorithm().String(), d.Encoded()[:2], d.Encoded())
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestCheckQuarantinesCorruptBlobs(t *testing.T) {
	root := t.TempDir()
	s, ds := seed(t, root, "alpha", "bravo", strings.Repeat("charlie", 100000))
	corrupt(t, root, ds[1])

	var progress []int
	rep, err := fsck.Check(t.Context(), s, fsck.WithProgress(func(r fsck.Report) { progress = append(progress, r.Blobs) }))
	if err != nil {
		t.Fatalf("Check = %v", err)
	}
	if rep.Blobs != 3 || rep.Bytes != int64(5+5+700000) || len(rep.Corrupt) != 1 || len(progress) != 3 {
		t.Fatalf("report = %+v (progress %v), want 3 blobs, 700010 bytes, 1 corrupt, 3 progress calls", rep, progress)
	}
	bad := rep.Corrupt[0]
	if bad.Digest != ds[1] || bad.Got != digest.FromString("Xravo") || bad.Quarantined == "" {
		t.Errorf("corrupt = %+v, want %s hashing to that of Xravo, quarantined", bad, ds[1])
	}
	if _, err := s.Stat(t.Context(), ds[1]); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of the corrupt blob after the check = %v, want ErrNotFound", err)
	}
	for _, d := range []digest.Digest{ds[0], ds[2]} {
		if _, err := s.Stat(t.Context(), d); err != nil {
			t.Errorf("Stat of sound blob %s = %v", d, err)
		}
	}
	// The next check finds nothing wrong.
	rep, err = fsck.Check(t.Context(), s)
	if err != nil || rep.Blobs != 2 || len(rep.Corrupt) != 0 {
		t.Errorf("second Check = %+v, %v, want 2 sound blobs", rep, err)
	}
}

func TestCheckDryRun(t *testing.T) {
	root := t.TempDir()
	s, ds := seed(t, root, "alpha", "bravo")
	corrupt(t, root, ds[0])
	rep, err := fsck.Check(t.Context(), s, fsck.WithDryRun(true))
	if err != nil || !rep.DryRun || len(rep.Corrupt) != 1 || rep.Corrupt[0].Quarantined != "" {
		t.Fatalf("dry run = %+v, %v, want 1 corrupt blob, not quarantined", rep, err)
	}
	if _, err := s.Stat(t.Context(), ds[0]); err != nil {
		t.Errorf("Stat after a dry run = %v, want the blob still there", err)
	}
}

// TestCheckRate: reading is held to the rate (a lower bound on the time,
// which sleeping guarantees).
func TestCheckRate(t *testing.T) {
	s, _ := seed(t, t.TempDir(), strings.Repeat("x", 512<<10))
	rep, err := fsck.Check(t.Context(), s, fsck.WithRate(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Duration < 400*time.Millisecond {
		t.Errorf("512 KiB at 1 MiB/s took %v, want at least ~500ms", rep.Duration)
	}
}

// TestScrub: passes repeat at the interval, each checking every blob,
// until the context ends; a blob corrupted between passes is quarantined
// by the next.
func TestScrub(t *testing.T) {
	root := t.TempDir()
	s, ds := seed(t, root, "alpha", "bravo")
	ctx, cancel := context.WithCancel(t.Context())
	reports := make(chan fsck.Report, 100)
	done := make(chan struct{})
	go func() {
		fsck.Scrub(ctx, s, 20*time.Millisecond, slog.New(slog.DiscardHandler), fsck.WithProgress(func(r fsck.Report) {
			if r.Blobs == 2 || len(r.Corrupt) > 0 {
				reports <- r
			}
		}))
		close(done)
	}()
	if r := <-reports; len(r.Corrupt) != 0 {
		t.Fatalf("first pass = %+v, want sound blobs", r)
	}
	corrupt(t, root, ds[0])
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case r := <-reports:
			found = len(r.Corrupt) == 1 && r.Corrupt[0].Digest == ds[0] && r.Corrupt[0].Quarantined != ""
		case <-deadline:
			t.Fatal("no pass quarantined the corrupted blob")
		}
	}
	cancel()
	<-done
	if _, err := s.Stat(t.Context(), ds[0]); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of the corrupted blob = %v, want ErrNotFound", err)
	}
}
