//go:build !(linux || android || darwin || ios || freebsd || netbsd || openbsd || dragonfly || windows)

package tokencache

import "time"

func newLock(path string, staleAfter time.Duration) (fileLocker, error) {
	return newExclLock(path, staleAfter)
}
