//go:build unix

package privdir

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestEnsure is not parallel: it sets the process umask to 0, so that a
// directory made 0777 really is.
func TestEnsure(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) string // returns the path to Ensure
	}{
		{"missing, with missing parents", func(t *testing.T, dir string) string { return filepath.Join(dir, "a", "chainctl") }},
		{"existing 0777", func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "chainctl"), 0o777) }},
		{"existing 0750", func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "chainctl"), 0o750) }},
		{"existing 0700", func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "chainctl"), 0o700) }},
		{"a symlink to a 0777 directory", func(t *testing.T, dir string) string {
			target := mkdir(t, filepath.Join(dir, "dotfiles"), 0o777)
			link := filepath.Join(dir, "chainctl")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.prepare(t, t.TempDir())
			if err := Ensure(path); err != nil {
				t.Fatalf("Ensure(%s) = %v", path, err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != Mode {
				t.Errorf("mode after Ensure = %v (%v), want %v", fi.Mode().Perm(), err, Mode)
			}
		})
	}
}

func TestEnsureRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "chainctl")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(file); !errors.Is(err, ErrInsecure) {
		t.Errorf("Ensure(a file) = %v, want ErrInsecure", err)
	}
	if os.Geteuid() != 0 {
		t.Log("not root: the other-owner case needs chown")
		return
	}
	other := mkdir(t, filepath.Join(dir, "other"), 0o700)
	if err := os.Chown(other, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(other); !errors.Is(err, ErrInsecure) {
		t.Errorf("Ensure(another user's directory) = %v, want ErrInsecure", err)
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}
