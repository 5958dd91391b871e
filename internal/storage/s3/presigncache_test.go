package s3

import (
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// TestPresignCache: a URL is handed out again only while at least half of
// its life is left, per digest and TTL, and the cache stays bounded.
func TestPresignCache(t *testing.T) {
	var c presignCache
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	k := presignKey{dgst: digest.FromString("a"), ttl: 10 * time.Minute}
	if _, ok := c.get(k, t0); ok {
		t.Fatal("empty cache answered")
	}
	c.put(k, presigned{url: "u1", expires: t0.Add(10 * time.Minute)})
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {5 * time.Minute, true}, {5*time.Minute + time.Second, false}, {11 * time.Minute, false}} {
		if u, ok := c.get(k, t0.Add(tt.at)); ok != tt.want || (ok && u != "u1") {
			t.Errorf("get at +%v = %q, %v; want hit %v", tt.at, u, ok, tt.want)
		}
	}
	if _, ok := c.get(presignKey{dgst: k.dgst, ttl: time.Minute}, t0); ok {
		t.Error("a URL of another TTL was handed out")
	}
	if _, ok := c.get(presignKey{dgst: digest.FromString("b"), ttl: k.ttl}, t0); ok {
		t.Error("a URL of another blob was handed out")
	}
	for i := range maxPresigned + 10 {
		c.put(presignKey{dgst: digest.FromString(fmt.Sprint(i)), ttl: k.ttl}, presigned{url: "x", expires: t0.Add(time.Hour)})
	}
	if len(c.m) > maxPresigned {
		t.Errorf("cache holds %d URLs, bound %d", len(c.m), maxPresigned)
	}
}
