package tokencache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// exclLock is the portable fallback (built everywhere so it is tested
// everywhere; used by lock_other.go) for platforms without flock in package
// syscall (solaris, illumos, aix, plan9, wasm): the lock is the existence
// of a file created with O_EXCL. A holder that dies leaves the file behind,
// so a lock file older than staleAfter is taken to be stale and removed.
// This is weaker than flock: a refresh that outlives staleAfter can be
// overlapped by a second one.
type exclLock struct {
	path       string
	staleAfter time.Duration
	held       bool
}

func newExclLock(path string, staleAfter time.Duration) (*exclLock, error) {
	if _, err := checkFile(path); err != nil {
		return nil, err
	}
	return &exclLock{path: path, staleAfter: staleAfter}, nil
}

func (l *exclLock) tryLock() (bool, error) {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err == nil {
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		l.held = true
		return true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, err
	}
	fi, err := checkFile(l.path)
	if err != nil {
		return false, err
	}
	if fi != nil && time.Since(fi.ModTime()) > l.staleAfter {
		_ = os.Remove(l.path)
	}
	return false, nil
}

func (l *exclLock) unlock() error {
	if !l.held {
		return nil
	}
	l.held = false
	return os.Remove(l.path)
}

func (l *exclLock) close() error { return nil }
