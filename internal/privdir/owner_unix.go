//go:build unix

package privdir

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// CheckOwner refuses files owned by another user: someone else could read
// or replace what chainctl keeps there.
func CheckOwner(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); uint64(st.Uid) != uint64(uid) {
		return fmt.Errorf("owned by uid %d, not by the current user (uid %d); remove it or fix its owner", st.Uid, uid)
	}
	return nil
}
