//go:build linux || android || darwin || ios || freebsd || netbsd || openbsd || dragonfly

package tokencache

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// flockLock is a persistent lock file locked with flock(2). flock locks
// belong to the open file description, so two opens in one process exclude
// each other just as two processes do, and the kernel drops the lock when
// the process dies: there are no stale locks.
type flockLock struct{ f *os.File }

func newLock(path string, _ time.Duration) (fileLocker, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, fileMode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%w: %s is a symlink; remove it", ErrInsecure, path)
		}
		return nil, err
	}
	if err := checkOpened(path, f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return nil, err
	}
	return &flockLock{f: f}, nil
}

func (l *flockLock) tryLock() (bool, error) {
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, fmt.Errorf("flock: %w", err)
		}
	}
}

func (l *flockLock) unlock() error { return syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) }

func (l *flockLock) close() error { return l.f.Close() }
