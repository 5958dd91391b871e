package issuer

import (
	"strings"
	"sync"
	"time"
)

// verifyCache remembers tokens that verified, keyed by the raw token, so
// that a repeated token (every request of a pull carries the same one)
// costs a map lookup: the map's own hash and an exact comparison, where a
// SHA-256 of the token cost a manifest HEAD 2 % of its server time. The
// keys are the registry's own access and session tokens (about a
// kilobyte), so a full cache holds about 10 MB of them. An entry is good
// until the token's exp; after that Verify checks the token in full
// again, which rejects it once the skew is spent. Only verified tokens enter, so the
// cache cannot be filled by a sender without valid tokens; it is bounded
// all the same.
type verifyCache struct {
	max int // <= 0: off

	mu      sync.RWMutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	claims *Claims
	kid    string    // the key that verified it: a deleted key voids the entry
	exp    time.Time // the token's exp
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, entries: make(map[string]cacheEntry)}
}

// get returns the entry for raw if it has one that is good at now.
func (c *verifyCache) get(raw string, now time.Time) (cacheEntry, bool) {
	if c.max <= 0 {
		return cacheEntry{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[raw]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		return cacheEntry{}, false
	}
	return e, true
}

// put remembers e under raw unless it is no longer good at now. When the
// cache is full it drops the expired entries and, if that is not enough,
// an arbitrary eighth of the rest.
func (c *verifyCache) put(raw string, e cacheEntry, now time.Time) {
	if c.max <= 0 || !now.Before(e.exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[raw]; !ok && len(c.entries) >= c.max {
		for k, v := range c.entries {
			if !now.Before(v.exp) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max-c.max/8 {
				break
			}
			delete(c.entries, k) // map order is random enough
		}
	}
	c.entries[strings.Clone(raw)] = e // not the header it was cut from
}

// len is the number of entries, for tests.
func (c *verifyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
