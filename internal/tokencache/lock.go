package tokencache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// WithLock runs fn while holding an exclusive, cross-process lock for host
// (flock on unix, LockFileEx on windows; see lock_*.go). While someone else
// holds it, WithLock polls with exponential backoff and gives up with
// ctx's error when ctx is done; fn is then not called. The lock is released
// when fn returns or panics, and by the OS if the process dies.
func (c *Cache) WithLock(ctx context.Context, host string, fn func() error) error {
	name, err := fileName(host)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wait for token cache lock for %s: %w", host, err)
	}
	l, err := newLock(filepath.Join(c.dir, name+lockSuffix), c.staleLockAt)
	if err != nil {
		return fmt.Errorf("token cache lock for %s: %w", host, err)
	}
	defer l.close()
	wait := c.pollMin
	for {
		ok, err := l.tryLock()
		if err != nil {
			return fmt.Errorf("token cache lock for %s: %w", host, err)
		}
		if ok {
			break
		}
		// Up to 50% jitter so waiters do not retry in lockstep.
		d := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for token cache lock for %s: %w", host, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, c.pollMax)
	}
	defer l.unlock()
	return fn()
}

// GetOrRefresh returns host's entry if it has at least minLife left
// (minLife <= 0 means the cache's default, see WithMinLife). Otherwise it
// takes the host lock, looks again — another goroutine or process may have
// refreshed meanwhile — and only if the entry is still not usable calls
// refresh and stores its result. So N concurrent callers on an expired
// cache cause one refresh; the others wait and find the fresh entry.
//
// refresh's entry is stored and returned as it is, even if it has less
// than minLife left (it is the freshest there is); such an entry makes
// the next caller refresh again.
//
// A warm cache costs one file read and no lock. Errors from refresh are
// returned unwrapped so callers can match their own types.
func (c *Cache) GetOrRefresh(ctx context.Context, host string, minLife time.Duration, refresh func(context.Context) (Entry, error)) (Entry, error) {
	if minLife <= 0 {
		minLife = c.minLife
	}
	if e, ok, err := c.usable(host, minLife); err != nil || ok {
		return e, err
	}
	var out Entry
	err := c.WithLock(ctx, host, func() error {
		e, ok, err := c.usable(host, minLife)
		if err != nil {
			return err
		}
		if ok {
			out = e
			return nil
		}
		ne, err := refresh(ctx)
		if err != nil {
			return err
		}
		if err := c.Put(host, ne); err != nil {
			return err
		}
		out = ne
		return nil
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// usable reads host's entry; a missing or corrupt entry is a miss, while a
// refused (insecure) or unreadable one is an error.
func (c *Cache) usable(host string, minLife time.Duration) (Entry, bool, error) {
	e, err := c.Get(host)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	if !e.UsableAt(c.now(), minLife) {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// fileLocker is one host's lock, implemented per platform.
type fileLocker interface {
	// tryLock takes the lock without waiting; false means someone else
	// holds it.
	tryLock() (bool, error)
	unlock() error
	close() error
}

// checkOpened verifies that f, just opened at path, is a regular file we
// own and that path still names it (no symlink or swap in between).
func checkOpened(path string, f *os.File) error {
	fi, err := checkFile(path)
	if err != nil {
		return err
	}
	ofi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi == nil || !os.SameFile(fi, ofi) {
		return fmt.Errorf("%w: %s changed while being opened", ErrInsecure, path)
	}
	return nil
}
