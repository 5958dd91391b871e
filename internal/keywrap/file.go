package keywrap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// maxFileSize bounds a keyring file: a few dozen keys are a few KiB.
const maxFileSize = 64 << 10

// LoadFile reads a keyring file (see ParseKeyring). On Unix it refuses a
// file that others than its owner may read or write, as ssh does with a
// private key, with the command that fixes it.
func LoadFile(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key-encryption key file %s: not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key-encryption key file %s is open to others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("key-encryption key file %s: %d bytes, more than a keyring holds", path, fi.Size())
	}
	text := make([]byte, fi.Size())
	if _, err := f.ReadAt(text, 0); err != nil && fi.Size() > 0 {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	r, err := ParseKeyring(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// LoadOrCreateFile is LoadFile, but first creates the file with one new
// key (mode 0600) when none exists. created reports whether it did.
func LoadOrCreateFile(path string) (r *Keyring, created bool, err error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		key, err := GenerateKey()
		if err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("create key-encryption key file: %w", err)
		}
		// O_EXCL: two processes starting at once keep one key, the first.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			_, werr := f.WriteString("# chainctl key-encryption key: keep it apart from the database's backups\n" + key)
			if serr := f.Sync(); werr == nil {
				werr = serr
			}
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, false, fmt.Errorf("create key-encryption key file: %w", werr)
			}
			created = true
		case !errors.Is(err, fs.ErrExist):
			return nil, false, fmt.Errorf("create key-encryption key file: %w", err)
		}
	}
	r, err = LoadFile(path)
	return r, created, err
}
