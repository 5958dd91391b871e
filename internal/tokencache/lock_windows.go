//go:build windows

package tokencache

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// winLock is a persistent lock file locked with LockFileEx. Locks belong
// to the handle, so two opens in one process exclude each other, and
// Windows releases them when the process dies.
type winLock struct{ f *os.File }

func newLock(path string, _ time.Duration) (fileLocker, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, err
	}
	if err := checkOpened(path, f); err != nil {
		f.Close()
		return nil, err
	}
	return &winLock{f: f}, nil
}

func (l *winLock) tryLock() (bool, error) {
	ol := new(windows.Overlapped)
	err := windows.LockFileEx(windows.Handle(l.f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	default:
		return false, fmt.Errorf("LockFileEx: %w", err)
	}
}

func (l *winLock) unlock() error {
	return windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

func (l *winLock) close() error { return l.f.Close() }
