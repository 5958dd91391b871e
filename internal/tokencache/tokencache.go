// Package tokencache keeps the client's registry credentials on disk, one
// file per registry host and slot (the login session, and what the
// credential helper was asked to store; see Cache.Stored), as DESIGN.md
// ("Client") asks: a 0700 directory in the user cache directory, 0600
// files, atomic replace, and a cross-process file lock per host so that
// concurrent credential-helper calls share one refresh (and so at most
// one browser window).
//
// The package never prints and never logs; Entry redacts its token when
// formatted, so an accidental %v or slog attribute cannot leak it.
package tokencache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/atomicfile"
	"github.com/chainctl/chainctl/internal/privdir"
)

const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600

	entrySuffix  = ".json"
	storedSuffix = ".stored"
	lockSuffix   = ".lock"
	tempPrefix   = ".tmp-"

	// maxEntrySize caps what Get reads, so a hostile or corrupt file cannot
	// make the helper allocate without bound.
	maxEntrySize = 1 << 20

	// DefaultMinLife is how much life a session token must have left to be
	// handed out, so a long push does not fail halfway.
	DefaultMinLife = 5 * time.Minute
)

var (
	// ErrNotFound means there is no entry for the host.
	ErrNotFound = errors.New("no cached credentials")
	// ErrCorrupt means the entry file exists but does not decode.
	ErrCorrupt = errors.New("corrupt cache entry")
	// ErrInsecure means a cache directory or file is a symlink, not a
	// regular file or directory, or owned by another user, and was refused.
	ErrInsecure = errors.New("insecure token cache")
	// ErrInvalidHost means the host is not a registry host[:port].
	ErrInvalidHost = errors.New("invalid registry host")
)

// Cache is a directory of per-host credential entries. It holds no open
// files and is safe for concurrent use by goroutines and processes.
//
// A host has two slots, each one file: the Cache that Open returns
// reads and writes the login session's, and Stored the one for what
// the credential helper's store was handed (docker login, a saved pull
// token). The two share the host's lock.
type Cache struct {
	dir         string
	suffix      string // of entry files: entrySuffix, or storedSuffix for Stored
	minLife     time.Duration
	now         func() time.Time
	pollMin     time.Duration
	pollMax     time.Duration
	staleLockAt time.Duration
}

// Option configures a Cache.
type Option func(*Cache)

// WithMinLife sets how much life GetOrRefresh requires by default (when it
// is given a minLife <= 0). The default is DefaultMinLife.
func WithMinLife(d time.Duration) Option {
	return func(c *Cache) {
		if d > 0 {
			c.minLife = d
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(c *Cache) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLockPolling sets the backoff between attempts to take a host lock
// held by someone else: it starts at min and doubles up to max.
func WithLockPolling(minWait, maxWait time.Duration) Option {
	return func(c *Cache) {
		if minWait > 0 {
			c.pollMin = minWait
		}
		if maxWait >= c.pollMin {
			c.pollMax = maxWait
		}
	}
}

// Open returns the cache in dir, creating it with mode 0700 when missing
// and re-applying 0700 when it exists. It refuses a dir that is a symlink,
// not a directory, or (on unix) owned by another user.
func Open(dir string, opts ...Option) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("open token cache: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open token cache %s: %w", dir, err)
	}
	c := &Cache{
		dir:         abs,
		suffix:      entrySuffix,
		minLife:     DefaultMinLife,
		now:         time.Now,
		pollMin:     5 * time.Millisecond,
		pollMax:     100 * time.Millisecond,
		staleLockAt: 10 * time.Minute,
	}
	for _, o := range opts {
		o(c)
	}
	if err := os.MkdirAll(abs, dirMode); err != nil {
		return nil, fmt.Errorf("open token cache: %w", err)
	}
	if err := c.secureDir(); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultDir is os.UserCacheDir()/chainctl/tokens.
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("token cache directory: %w", err)
	}
	return filepath.Join(base, "chainctl", "tokens"), nil
}

// OpenDefault opens the cache in DefaultDir. The chainctl directory that
// holds it is chainctl's own too: created 0700, and tightened to 0700 when
// it exists with looser modes (privdir.Ensure), so that other users can
// neither list the registries cached there nor swap the tokens directory.
func OpenDefault(opts ...Option) (*Cache, error) {
	dir, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	if err := privdir.Ensure(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("open token cache: %w", err)
	}
	return Open(dir, opts...)
}

// Dir is the cache's absolute directory.
func (c *Cache) Dir() string { return c.dir }

// Stored returns the cache's other slot per host: credentials handed to
// the credential helper's store, kept apart from the host's login session
// so that a `docker login` (or a saved pull token) and `chainctl auth
// login` can each replace or erase their own without logging the other
// out. Its Get, Put, Delete and List see that slot only, and its Put
// takes KindStored entries only; WithLock takes the same lock as c's, so
// one lock still orders everything done to a host. A Cache from Stored
// has the same directory and options as c, and Stored of it is itself.
func (c *Cache) Stored() *Cache {
	s := *c
	s.suffix = storedSuffix
	return &s
}

// secureDir checks the cache directory is a real directory we own and
// re-applies mode 0700.
func (c *Cache) secureDir() error {
	fi, err := os.Lstat(c.dir)
	if err != nil {
		return fmt.Errorf("open token cache: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is a symlink; remove it so chainctl can create a private directory there", ErrInsecure, c.dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrInsecure, c.dir)
	}
	if err := privdir.CheckOwner(fi); err != nil {
		return fmt.Errorf("%w: directory %s: %v", ErrInsecure, c.dir, err)
	}
	if err := os.Chmod(c.dir, dirMode); err != nil {
		return fmt.Errorf("open token cache: set mode of %s: %w", c.dir, err)
	}
	return nil
}

// checkFile refuses a path that is a symlink, not a regular file, or owned
// by another user. It returns the Lstat result (nil, nil if missing).
func checkFile(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%w: %s is a symlink; remove it and log in again", ErrInsecure, path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInsecure, path)
	}
	if err := privdir.CheckOwner(fi); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInsecure, path, err)
	}
	return fi, nil
}

// openChecked opens an existing file for reading after checkFile, and
// verifies that what it opened is the file it checked. A concurrent Put
// renaming a new file into place between the check and the open is
// normal, so a mismatch is retried a few times before it is refused.
func openChecked(path string) (*os.File, error) {
	for range 5 {
		fi, err := checkFile(path)
		if err != nil {
			return nil, err
		}
		if fi == nil {
			return nil, fs.ErrNotExist
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		ofi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if os.SameFile(fi, ofi) {
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("%w: %s keeps changing while being opened", ErrInsecure, path)
}

func (c *Cache) entryPath(host string) (string, error) {
	name, err := fileName(host)
	if err != nil {
		return "", err
	}
	return filepath.Join(c.dir, name+c.suffix), nil
}

// Get returns the entry for host, whether or not it is still usable. It
// returns ErrNotFound when there is none and ErrCorrupt when the file does
// not decode.
func (c *Cache) Get(host string) (Entry, error) {
	path, err := c.entryPath(host)
	if err != nil {
		return Entry{}, err
	}
	f, err := openChecked(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("%s: %w", host, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read cached credentials for %s: %w", host, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEntrySize+1))
	if err != nil {
		return Entry{}, fmt.Errorf("read cached credentials for %s: %w", host, err)
	}
	if len(data) > maxEntrySize {
		return Entry{}, fmt.Errorf("read cached credentials for %s: %w: larger than %d bytes", host, ErrCorrupt, maxEntrySize)
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil {
		// The decoder's error never quotes the input, so no token leaks.
		return Entry{}, fmt.Errorf("read cached credentials for %s: %w: %v", host, ErrCorrupt, err)
	}
	return e, nil
}

// Put stores e for host, replacing any previous entry atomically: a temp
// file in the cache directory is written, fsynced, given mode 0600 and
// renamed over the old one. Modes are re-applied on every write.
func (c *Cache) Put(host string, e Entry) error {
	path, err := c.entryPath(host)
	if err != nil {
		return err
	}
	if err := e.validate(); err != nil {
		return fmt.Errorf("cache credentials for %s: %w", host, err)
	}
	if c.suffix == storedSuffix && e.Kind != KindStored {
		return fmt.Errorf("cache credentials for %s: a %s entry in the stored slot", host, e.Kind)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("cache credentials for %s: %w", host, err)
	}
	if err := c.secureDir(); err != nil {
		return err
	}
	if _, err := checkFile(path); err != nil {
		return fmt.Errorf("cache credentials for %s: %w", host, err)
	}
	if err := writeAtomic(c.dir, path, data); err != nil {
		return fmt.Errorf("cache credentials for %s: %w", host, err)
	}
	return nil
}

func writeAtomic(dir, path string, data []byte) error {
	if err := atomicfile.Write(path, data, fileMode, tempPrefix); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable where the platform allows it. Failure
// is not an error: the data itself is already synced.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Delete removes the entry for host. Deleting a missing entry is not an
// error. The host's lock file is kept: removing it could let two processes
// hold "the" lock at once.
func (c *Cache) Delete(host string) error {
	path, err := c.entryPath(host)
	if err != nil {
		return err
	}
	if _, err := checkFile(path); err != nil {
		// A symlink is removed, never followed; other refusals still stand.
		if fi, lerr := os.Lstat(path); lerr != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return fmt.Errorf("erase cached credentials for %s: %w", host, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("erase cached credentials for %s: %w", host, err)
	}
	syncDir(c.dir)
	return nil
}

// List returns the hosts with an entry in c's slot, sorted. Files that are not entries
// (locks, temp files, anything foreign) are skipped.
func (c *Cache) List() ([]string, error) {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("list cached credentials: %w", err)
	}
	var hosts []string
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasSuffix(name, c.suffix) {
			continue
		}
		host, ok := hostFromFileName(strings.TrimSuffix(name, c.suffix))
		if !ok {
			continue
		}
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)
	return hosts, nil
}
