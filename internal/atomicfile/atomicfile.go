// Package atomicfile replaces small files so that a reader sees the old
// content or the new, never a mix: the data goes to a temporary file in the
// same directory, which is given its mode, synced and renamed over the
// target. Blobs have their own streaming path in storage/fs.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Write replaces path with data, with permissions perm whatever the umask.
// The temporary file's name starts with tempPrefix ("." + the target's base
// name + ".tmp-" when empty), so that a directory lister can skip it. On
// error the temporary file is removed and path is untouched. The directory
// entry itself is not synced; callers that need the rename to survive a
// power loss sync the directory.
func Write(path string, data []byte, perm fs.FileMode, tempPrefix string) (err error) {
	if tempPrefix == "" {
		tempPrefix = "." + filepath.Base(path) + ".tmp-"
	}
	// CreateTemp opens with O_EXCL and mode 0600: no existing file or
	// symlink is followed and nobody else can read it meanwhile.
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
