// Package privdir keeps chainctl's own directories private to the user who
// runs it: the configuration directory (the default registry) and the cache
// directory (tokens). Created ones get mode 0700; existing ones are checked
// and tightened, because a directory others may write into lets them
// replace what chainctl reads there, and one they may read lists the
// registries a user has credentials for.
package privdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// ErrInsecure means a path is not private to the current user and could
// not be made so: owned by someone else, or its mode could not be changed.
var ErrInsecure = errors.New("insecure path")

// Mode is the mode of a private directory.
const Mode fs.FileMode = 0o700

// Ensure makes dir a directory only the current user can use: it is
// created (with its missing parents) with mode 0700, and an existing one
// that others may read, write or enter is changed to 0700. A symlink is
// followed (a dotfile manager may link the directory), and what it points
// at must qualify. It fails with ErrInsecure, saying what to fix, when dir
// is not a directory, belongs to another user, or cannot be tightened.
func Ensure(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, Mode); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrInsecure, dir)
	}
	if err := CheckOwner(fi); err != nil {
		return fmt.Errorf("%w: %s is %v", ErrInsecure, dir, err)
	}
	return tighten(dir, fi, Mode)
}

// Tighten removes the group and other permission bits of path, a file or
// directory the current user owns, so that only they can use it. It does
// nothing when there are none, or where modes are not unix modes.
func Tighten(path string, fi fs.FileInfo) error {
	return tighten(path, fi, fi.Mode().Perm()&0o700)
}

func tighten(path string, fi fs.FileInfo, want fs.FileMode) error {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		return nil // no unix modes; the per-user directories' ACLs do this job
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, want); err != nil {
		return fmt.Errorf("%w: %s has mode %04o, which lets other users in, and it could not be changed (%v); run chmod %o %s",
			ErrInsecure, path, fi.Mode().Perm(), err, want, path)
	}
	return nil
}
