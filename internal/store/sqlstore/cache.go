package sqlstore

import (
	"strconv"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Cache bounds. A manifest is at most 4 MiB; the byte budget keeps the
// cache's memory small next to the server's.
const (
	cacheMaxEntries = 50_000
	cacheMaxBytes   = 32 << 20
)

// readCache remembers the answers of the lookups on the pull path —
// tag → digest, manifest by digest, blob size, a page of a tags list — so
// that a hot manifest GET or tags list costs no SQLite query. A SQLite
// file belongs to one server process, like the blob directory beside it:
// every write transaction of that process clears the cache when it
// commits, and the generation check in put keeps a lookup that raced a
// write from caching what the write replaced. The one other writer,
// `registry gc`, only deletes; the server notices its commits within
// externalCheckEvery (see externalWrites), and a push that finds a cached
// link gone clears the cache at once.
//
// A nil *readCache caches nothing: lookups miss and puts are dropped.
type readCache struct {
	mu        sync.Mutex
	gen       uint64
	tags      map[string]digest.Digest
	manifests map[string]*store.Manifest
	blobs     map[string]int64
	tagPages  map[string][]string
	bytes     int
}

func newReadCache() *readCache {
	c := &readCache{}
	c.reset()
	return c
}

func (c *readCache) reset() {
	c.tags = make(map[string]digest.Digest)
	c.manifests = make(map[string]*store.Manifest)
	c.blobs = make(map[string]int64)
	c.tagPages = make(map[string][]string)
	c.bytes = 0
}

func cacheKey(repo, s string) string { return repo + "\x00" + s }

// generation returns the value a lookup passes to put after its query.
func (c *readCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate forgets everything; called after every committed write.
func (c *readCache) invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.reset()
}

// admit reports whether an entry of n bytes read at generation gen may be
// stored, making room if needed. Callers hold c.mu.
func (c *readCache) admit(gen uint64, n int) bool {
	if gen != c.gen {
		return false // a write committed since the lookup read the database
	}
	if len(c.tags)+len(c.manifests)+len(c.blobs)+len(c.tagPages) >= cacheMaxEntries || c.bytes+n > cacheMaxBytes {
		c.reset() // crude but bounded; the hot set refills at once
	}
	return n <= cacheMaxBytes
}

func (c *readCache) tag(repo, tag string) (digest.Digest, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.tags[cacheKey(repo, tag)]
	return d, ok
}

func (c *readCache) putTag(gen uint64, repo, tag string, d digest.Digest) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admit(gen, 0) {
		c.tags[cacheKey(repo, tag)] = d
	}
}

// manifest returns a copy of the cached manifest; its slices and map are
// shared and must not be modified.
func (c *readCache) manifest(repo string, d digest.Digest) (*store.Manifest, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	m, ok := c.manifests[cacheKey(repo, string(d))]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	cp := *m
	return &cp, true
}

func (c *readCache) putManifest(gen uint64, m *store.Manifest) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admit(gen, len(m.Content)) {
		cp := *m
		c.manifests[cacheKey(m.Repository, string(m.Digest))] = &cp
		c.bytes += len(m.Content)
	}
}

func (c *readCache) blob(repo string, d digest.Digest) (int64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.blobs[cacheKey(repo, string(d))]
	return n, ok
}

func (c *readCache) putBlob(gen uint64, repo string, d digest.Digest, size int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admit(gen, 0) {
		c.blobs[cacheKey(repo, string(d))] = size
	}
}

// tagPageKey keys the page of up to n of repo's tags after last. Neither
// a repository name nor a tag can hold a NUL.
func tagPageKey(repo, last string, n int) string {
	return repo + "\x00" + last + "\x00" + strconv.Itoa(n)
}

// tagPage returns a cached page of repo's tags; the slice is shared and
// must not be modified.
func (c *readCache) tagPage(repo, last string, n int) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tags, ok := c.tagPages[tagPageKey(repo, last, n)]
	return tags, ok
}

// putTagPage caches tags, which the caller must not modify afterwards.
func (c *readCache) putTagPage(gen uint64, repo, last string, n int, tags []string) {
	if c == nil {
		return
	}
	size := 16 * len(tags) // each string's header
	for _, t := range tags {
		size += len(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admit(gen, size) {
		c.tagPages[tagPageKey(repo, last, n)] = tags
		c.bytes += size
	}
}
