//go:build !unix

package fs

import "os"

// rename is os.Rename where rename(2) is not the system's call.
func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
