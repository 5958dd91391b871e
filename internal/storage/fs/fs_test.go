package fs_test

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/storage/storagetest"
	"github.com/opencontainers/go-digest"
)

func newStore(t *testing.T, root string, opts ...fs.Option) *fs.Store {
	t.Helper()
	s, err := fs.New(root, opts...)
	if err != nil {
		t.Fatalf("New(%s) = %v, want nil", root, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storage.Store {
				return newStore(t, t.TempDir(), fs.WithSync(sync))
			})
		})
	}
}

func TestNewRemovesStaleTemporaries(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newStore(t, root)
	dgst := digest.FromString("survivor")
	if _, err := s.Put(ctx, dgst, strings.NewReader("survivor")); err != nil {
		t.Fatalf("Put(%s) = %v, want nil", dgst, err)
	}
	const id = "in-progress"
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v, want nil", id, err)
	}
	if _, err := s.WriteUpload(ctx, id, 0, strings.NewReader("12345")); err != nil {
		t.Fatalf("WriteUpload(%s) = %v, want nil", id, err)
	}

	// What a crash leaves behind: a half-written blob, a half-removed upload.
	tmp := filepath.Join(root, "tmp")
	writeFile(t, filepath.Join(tmp, "blob-123456"), "partial")
	writeFile(t, filepath.Join(tmp, "upload-789", "u", "data"), "cancelled")

	s = newStore(t, root)
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("ReadDir(tmp) after New = %d entries, %v, want 0, nil", len(entries), err)
	}
	if size, err := s.Stat(ctx, dgst); err != nil || size != int64(len("survivor")) {
		t.Errorf("Stat(%s) after New = %d, %v, want %d, nil", dgst, size, err, len("survivor"))
	}
	if size, err := s.UploadSize(ctx, id); err != nil || size != 5 {
		t.Errorf("UploadSize(%s) after New = %d, %v, want 5, nil", id, size, err)
	}
}

func TestKeepTemporaries(t *testing.T) {
	root := t.TempDir()
	newStore(t, root)
	busy := filepath.Join(root, "tmp", "blob-in-flight")
	writeFile(t, busy, "a server is writing this")
	if _, err := fs.New(root, fs.WithKeepTemporaries()); err != nil {
		t.Fatalf("New(WithKeepTemporaries) = %v", err)
	}
	if _, err := os.Stat(busy); err != nil {
		t.Errorf("Stat(%s) after New(WithKeepTemporaries) = %v, want nil", busy, err)
	}
}

func TestPermissions(t *testing.T) {
	ctx := t.Context()
	root := filepath.Join(t.TempDir(), "root")
	s := newStore(t, root)
	if _, err := s.Put(ctx, digest.FromString("a"), strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.StartUpload(ctx, "perm"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, "perm", 0, strings.NewReader("b")); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(root, func(path string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		allowed := iofs.FileMode(0o640)
		if d.IsDir() {
			allowed = 0o750
		}
		if extra := fi.Mode().Perm() &^ allowed; extra != 0 {
			t.Errorf("%s has mode %v, want at most %v", path, fi.Mode().Perm(), allowed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInvalidUploadIDTouchesNothing(t *testing.T) {
	ctx := t.Context()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	s := newStore(t, root)
	if _, err := s.Put(ctx, digest.FromString("x"), strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	// Directories a traversing id would reach.
	writeFile(t, filepath.Join(parent, "victim", "data"), "precious")
	writeFile(t, filepath.Join(root, "victim", "data"), "precious")
	before := snapshot(t, parent)

	ids := []string{"", "..", "../victim", "../../victim", "..%2fvictim", "a/b", `..\victim`, "a.b", "\x00", strings.Repeat("x", 129)}
	for _, id := range ids {
		if err := s.StartUpload(ctx, id); err == nil {
			t.Errorf("StartUpload(%q) = nil error, want an error", id)
		}
		if _, err := s.WriteUpload(ctx, id, 0, strings.NewReader("evil")); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("WriteUpload(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.UploadSize(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("UploadSize(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.CommitUpload(ctx, id, digest.FromString("precious")); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("CommitUpload(%q) = %v, want ErrNotFound", id, err)
		}
		if err := s.CancelUpload(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("CancelUpload(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if after := snapshot(t, parent); after != before {
		t.Errorf("tree changed by invalid ids:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestHashState checks the running sha256 state kept next to an upload:
// a state that covers the data spares the commit a second read, and a
// missing, stale or corrupt state is never trusted.
func TestHashState(t *testing.T) {
	p := storagetest.Pattern{Seed: 7}
	const chunk = 1 << 20 // large enough for the state to be saved
	tests := []struct {
		name string
		// damage runs between the first and the second chunk, afterWrite
		// after the second; both get the upload's directory. With
		// thirdWrite, a third chunk follows at whatever size the upload
		// then has.
		damage     func(t *testing.T, dir string)
		afterWrite func(t *testing.T, dir string)
		thirdWrite bool
	}{
		{name: "intact"},
		{name: "missing", damage: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "hashstate")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "garbage", damage: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "hashstate"), "\x00\x00\x00\x00\x00\x00\x00\x05not a sha256 state")
		}},
		{name: "missing after last write", afterWrite: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "hashstate")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "behind the data", afterWrite: func(t *testing.T, dir string) {
			// A state saved after the first chunk only, as after a crash
			// between appending and saving.
			if err := os.Rename(filepath.Join(dir, "hashstate.first"), filepath.Join(dir, "hashstate")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "behind the data, then written", thirdWrite: true, afterWrite: func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "hashstate.first"), filepath.Join(dir, "hashstate")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "ahead of the data, then written", thirdWrite: true, afterWrite: func(t *testing.T, dir string) {
			// Data lost under a state that claims it.
			if err := os.Truncate(filepath.Join(dir, "data"), chunk/2); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			root := t.TempDir()
			s := newStore(t, root)
			const id = "state"
			dir := filepath.Join(root, "uploads", id)
			if err := s.StartUpload(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.WriteUpload(ctx, id, 0, p.Reader(0, chunk)); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "hashstate"))
			if err != nil {
				t.Fatalf("no hash state after a write: %v", err)
			}
			writeFile(t, filepath.Join(dir, "hashstate.first"), string(b))
			if tt.damage != nil {
				tt.damage(t, dir)
			}
			if _, err := s.WriteUpload(ctx, id, chunk, p.Reader(chunk, chunk)); err != nil {
				t.Fatal(err)
			}
			if tt.afterWrite != nil {
				tt.afterWrite(t, dir)
			}
			size, err := s.UploadSize(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tt.thirdWrite {
				if size, err = s.WriteUpload(ctx, id, size, p.Reader(size, chunk)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.CommitUpload(ctx, id, digest.FromString("wrong")); !errors.Is(err, storage.ErrDigestMismatch) {
				t.Errorf("CommitUpload(%s, wrong) = %v, want ErrDigestMismatch", id, err)
			}
			dgst := p.Digest(digest.SHA256, 0, size)
			if _, err := s.CommitUpload(ctx, id, dgst); err != nil {
				t.Fatalf("CommitUpload(%s, %s) = %v, want nil", id, dgst, err)
			}
			checkDigest(t, s, dgst)
		})
	}

	t.Run("small uploads keep no state", func(t *testing.T) {
		ctx := t.Context()
		root := t.TempDir()
		s := newStore(t, root)
		if err := s.StartUpload(ctx, "small"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriteUpload(ctx, "small", 0, p.Reader(0, 64<<10)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "uploads", "small", "hashstate")); !errors.Is(err, iofs.ErrNotExist) {
			t.Errorf("hash state of a 64 KiB upload: %v, want none", err)
		}
		dgst := p.Digest(digest.SHA256, 0, 64<<10)
		if _, err := s.CommitUpload(ctx, "small", dgst); err != nil {
			t.Fatalf("CommitUpload = %v", err)
		}
		checkDigest(t, s, dgst)
	})

	t.Run("covering state spares the reread", func(t *testing.T) {
		ctx := t.Context()
		root := t.TempDir()
		s := newStore(t, root)
		const id = "trusted"
		if err := s.StartUpload(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriteUpload(ctx, id, 0, p.Reader(0, chunk)); err != nil {
			t.Fatal(err)
		}
		// Change the data behind the store's back, keeping its size: a
		// commit that reread the file would now see a mismatch.
		data := filepath.Join(root, "uploads", id, "data")
		f, err := os.OpenFile(data, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{0}, 10); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := s.CommitUpload(ctx, id, p.Digest(digest.SHA256, 0, chunk)); err != nil {
			t.Errorf("CommitUpload(%s) = %v, want nil from the saved state", id, err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// snapshot describes every entry under root: path, mode, size, mtime.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		b.WriteString(rel + " " + fi.Mode().String() + " " + fi.ModTime().Format(time.RFC3339Nano) + " " +
			strings.Repeat("#", int(min(fi.Size(), 64))) + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkDigest fails t unless blob dgst reads back as bytes hashing to dgst.
func checkDigest(t *testing.T, s storage.BlobStore, dgst digest.Digest) {
	t.Helper()
	rc, err := s.Open(t.Context(), dgst, 0, -1)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", dgst, err)
	}
	defer rc.Close()
	got, err := dgst.Algorithm().FromReader(rc)
	if err != nil || got != dgst {
		t.Errorf("Open(%s) read bytes hashing to %s, %v", dgst, got, err)
	}
}

// TestMemory streams blobs far larger than the bound through every write
// path and checks that what the store allocates does not grow with them.
func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 256 MiB blobs; skipped with -short")
	}
	const (
		size  = 256 << 20
		chunk = 8 << 20
		bound = 32 << 20
	)
	tests := []struct {
		name    string
		alg     digest.Algorithm
		chunked bool
	}{
		{"Put", digest.SHA256, false},
		{"Put sha512", digest.SHA512, false},
		{"8MiB chunks sha256", digest.SHA256, true},
		{"8MiB chunks sha512", digest.SHA512, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := newStore(t, t.TempDir())
			p := storagetest.Pattern{Seed: 1000 + uint64(i)}
			dgst := p.Digest(tt.alg, 0, size)
			const id = "memory"
			if tt.chunked {
				if err := s.StartUpload(ctx, id); err != nil {
					t.Fatal(err)
				}
			}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if tt.chunked {
				for off := int64(0); off < size; off += chunk {
					if _, err := s.WriteUpload(ctx, id, off, p.Reader(off, chunk)); err != nil {
						t.Fatalf("WriteUpload(%s, %d) = %v, want nil", id, off, err)
					}
				}
				if _, err := s.CommitUpload(ctx, id, dgst); err != nil {
					t.Fatalf("CommitUpload(%s, %s) = %v, want nil", id, dgst, err)
				}
			} else if _, err := s.Put(ctx, dgst, p.Reader(0, size)); err != nil {
				t.Fatalf("Put(%s) = %v, want nil", dgst, err)
			}
			runtime.ReadMemStats(&after)

			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s of %d MiB: %d KiB allocated, heap in use %d -> %d KiB",
				tt.name, size>>20, allocated>>10, before.HeapInuse>>10, after.HeapInuse>>10)
			if allocated > bound {
				t.Errorf("%s of %d MiB allocated %d MiB, want < %d MiB", tt.name, size>>20, allocated>>20, bound>>20)
			}
			if got, err := s.Stat(ctx, dgst); err != nil || got != size {
				t.Errorf("Stat(%s) = %d, %v, want %d, nil", dgst, got, err, size)
			}
		})
	}
}

const (
	crashEnv      = "CHAINCTL_FS_CRASH_ROOT"
	crashUploadID = "crash"
	crashPutSize  = 32 << 20
	crashPutSent  = 16 << 20 // what the Put receives before its stream stalls
	crashChunk    = 4 << 20
)

// The streams of the killed Put and upload.
func crashPutPattern() storagetest.Pattern    { return storagetest.Pattern{Seed: 77} }
func crashUploadPattern() storagetest.Pattern { return storagetest.Pattern{Seed: 78} }

// TestCrashChild is the process TestCrash kills; it does nothing unless
// run by TestCrash. It starts a Put and a chunked upload whose streams
// stall part way, so that the kill lands in the middle of both.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(crashEnv)
	if root == "" {
		t.Skip("helper process for TestCrash")
	}
	ctx := t.Context()
	s := newStore(t, root)
	go func() {
		dgst := crashPutPattern().Digest(digest.SHA256, 0, crashPutSize)
		s.Put(ctx, dgst, stalled(crashPutPattern().Reader(0, crashPutSent)))
	}()
	if err := s.StartUpload(ctx, crashUploadID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, crashUploadID, 0, crashUploadPattern().Reader(0, crashChunk)); err != nil {
		t.Fatal(err)
	}
	s.WriteUpload(ctx, crashUploadID, crashChunk, stalled(crashUploadPattern().Reader(crashChunk, crashChunk)))
	t.Fatal("not killed in time")
}

// stalled yields r's bytes and then blocks, for at most a minute in case
// nobody comes to kill the process.
func stalled(r io.Reader) io.Reader {
	return io.MultiReader(r, stallReader{})
}

type stallReader struct{}

func (stallReader) Read([]byte) (int, error) {
	time.Sleep(time.Minute)
	return 0, errors.New("stalled too long")
}

// TestCrash kills (SIGKILL) a process in the middle of a Put and of an
// upload write, then checks that no blob became visible, that New cleans
// the temporaries, and that the upload resumes from what reached disk.
func TestCrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	root := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), crashEnv+"="+root)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})

	tmp := filepath.Join(root, "tmp")
	data := filepath.Join(root, "uploads", crashUploadID, "data")
	for deadline := time.Now().Add(time.Minute); !midway(tmp, data); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("child exited before being killed: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("child did not reach the middle of its writes in time")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	err := <-done
	done <- err
	if err == nil {
		t.Fatal("child exited cleanly, want killed")
	}

	err = filepath.WalkDir(filepath.Join(root, "blobs"), func(path string, d iofs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("after the kill %s is visible under blobs/", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	s := newStore(t, root)
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("ReadDir(tmp) after New = %d entries, %v, want 0, nil", len(entries), err)
	}
	ctx := t.Context()
	putDgst := crashPutPattern().Digest(digest.SHA256, 0, crashPutSize)
	if _, err := s.Stat(ctx, putDgst); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(%s) of the killed Put = %v, want ErrNotFound", putDgst, err)
	}

	size, err := s.UploadSize(ctx, crashUploadID)
	if err != nil || size != 2*crashChunk {
		t.Fatalf("UploadSize(%s) after the kill = %d, %v, want %d, nil", crashUploadID, size, err, 2*crashChunk)
	}
	const more = 1 << 20
	if _, err := s.WriteUpload(ctx, crashUploadID, size, crashUploadPattern().Reader(size, more)); err != nil {
		t.Fatalf("WriteUpload(%s, %d) after the kill = %v, want nil", crashUploadID, size, err)
	}
	dgst := crashUploadPattern().Digest(digest.SHA256, 0, size+more)
	if _, err := s.CommitUpload(ctx, crashUploadID, dgst); err != nil {
		t.Fatalf("CommitUpload(%s, %s) after the kill = %v, want nil", crashUploadID, dgst, err)
	}
	checkDigest(t, s, dgst)
}

// midway reports whether the child's Put has spooled all it will get to
// tmp and its upload holds the first chunk and all of the stalled second.
func midway(tmp, data string) bool {
	fi, err := os.Stat(data)
	if err != nil || fi.Size() != 2*crashChunk {
		return false
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() == crashPutSent {
			return true
		}
	}
	return false
}
