//go:build unix

package tokencache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestModes is not parallel: it sets the process umask to 0.
func TestModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{name: "fresh directory"},
		{name: "existing 0777 directory", prepare: func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "existing 0644 entry", prepare: func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "127.0.0.1_3a5000.json")
			if err := os.WriteFile(p, []byte(`{"kind":"stored","token":"x"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "chainctl", "tokens")
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			c, err := Open(dir)
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			if m := mode(t, dir); m != 0o700 {
				t.Errorf("directory mode after Open = %v, want 0700", m)
			}
			host := "127.0.0.1:5000"
			entry := filepath.Join(dir, "127.0.0.1_3a5000.json")
			for i := range 2 {
				if err := c.Put(host, Entry{Kind: KindStored, Token: "t"}); err != nil {
					t.Fatalf("Put() = %v", err)
				}
				if m := mode(t, entry); m != 0o600 {
					t.Errorf("entry mode after Put %d = %v, want 0600", i, m)
				}
				if m := mode(t, dir); m != 0o700 {
					t.Errorf("directory mode after Put %d = %v, want 0700", i, m)
				}
				// Loosen both; the next write must tighten them again.
				if err := os.Chmod(entry, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.WithLock(t.Context(), host, func() error { return nil }); err != nil {
				t.Fatalf("WithLock() = %v", err)
			}
			if m := mode(t, filepath.Join(dir, "127.0.0.1_3a5000.lock")); m != 0o600 {
				t.Errorf("lock file mode = %v, want 0600", m)
			}
		})
	}
}

func TestSymlinkRefused(t *testing.T) {
	t.Parallel()
	const host = "registry.example.com"
	t.Run("directory", func(t *testing.T) {
		tmp := t.TempDir()
		real := filepath.Join(tmp, "real")
		if err := os.Mkdir(real, 0o700); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(tmp, "tokens")
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(link); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("Open(symlink) = %v, want ErrInsecure naming the symlink", err)
		}
	})
	t.Run("directory is a file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "tokens")
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p); err == nil {
			t.Errorf("Open(file) = nil, want error")
		}
	})
	t.Run("entry", func(t *testing.T) {
		c := openTest(t)
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.WriteFile(target, []byte(`{"kind":"stored","token":"planted"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(c.Dir(), "registry.example.com.json")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if e, err := c.Get(host); !errors.Is(err, ErrInsecure) {
			t.Errorf("Get(symlinked entry) = %v, %v, want ErrInsecure", e, err)
		}
		if err := c.Put(host, Entry{Kind: KindStored, Token: "secret"}); !errors.Is(err, ErrInsecure) {
			t.Errorf("Put(symlinked entry) = %v, want ErrInsecure", err)
		}
		_, err := c.GetOrRefresh(t.Context(), host, 0, func(context.Context) (Entry, error) {
			t.Error("refresh called for a refused entry")
			return Entry{}, nil
		})
		if !errors.Is(err, ErrInsecure) {
			t.Errorf("GetOrRefresh(symlinked entry) = %v, want ErrInsecure", err)
		}
		if data, _ := os.ReadFile(target); !strings.Contains(string(data), "planted") {
			t.Errorf("symlink target was written: %s", data)
		}
		// Delete removes the link itself, never the target.
		if err := c.Delete(host); err != nil {
			t.Errorf("Delete(symlinked entry) = %v", err)
		}
		if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("symlink still there after Delete: %v", err)
		}
		if _, err := os.Stat(target); err != nil {
			t.Errorf("symlink target gone after Delete: %v", err)
		}
	})
	t.Run("lock", func(t *testing.T) {
		c := openTest(t)
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.Symlink(target, filepath.Join(c.Dir(), "registry.example.com.lock")); err != nil {
			t.Fatal(err)
		}
		called := false
		if err := c.WithLock(t.Context(), host, func() error { called = true; return nil }); !errors.Is(err, ErrInsecure) || called {
			t.Errorf("WithLock(symlinked lock) = %v, called %v; want ErrInsecure, not called", err, called)
		}
		if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("symlink target created: %v", err)
		}
	})
}

func TestOtherOwnerRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	const nobody = 65534
	t.Run("directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tokens")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Errorf("Open(other owner) = %v, want ErrInsecure naming the owner", err)
		}
	})
	t.Run("entry", func(t *testing.T) {
		c := openTest(t)
		if err := c.Put("example.com", Entry{Kind: KindStored, Token: "t", Expiry: time.Time{}}); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(c.Dir(), "example.com.json"), nobody, nobody); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get("example.com"); !errors.Is(err, ErrInsecure) {
			t.Errorf("Get(other owner) = %v, want ErrInsecure", err)
		}
		if err := c.Put("example.com", Entry{Kind: KindStored, Token: "t"}); !errors.Is(err, ErrInsecure) {
			t.Errorf("Put(other owner) = %v, want ErrInsecure", err)
		}
	})
}
