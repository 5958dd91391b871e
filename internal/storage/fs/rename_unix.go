//go:build unix

package fs

import (
	"os"
	"syscall"
)

// rename is rename(2): os.Rename first stats the new name to refuse a
// directory there, a system call a blob written costs for nothing (a blob
// path is never a directory, and rename(2) would refuse one anyway).
func rename(oldpath, newpath string) error {
	if err := syscall.Rename(oldpath, newpath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
