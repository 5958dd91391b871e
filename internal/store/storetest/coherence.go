package storetest

import (
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// testReadAfterWrite reads each answer once (so a backend that caches has
// it cached), changes it, and reads again: every read must see the write
// before it.
func testReadAfterWrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "coherent/repo"
	blob := digest.FromString("blob")
	link(t, s, repo, blob, 4)
	if n, err := s.BlobSize(ctx, repo, blob); err != nil || n != 4 {
		t.Fatalf("BlobSize = %d, %v; want 4", n, err)
	}
	if err := s.UnlinkBlob(ctx, repo, blob); err != nil {
		t.Fatal(err)
	}
	_, err := s.BlobSize(ctx, repo, blob)
	wantNotFound(t, "BlobSize after UnlinkBlob", err)

	m1 := newManifest(repo, "one", manifestOpts{})
	m2 := newManifest(repo, "two", manifestOpts{})
	put(t, s, m1, "latest")
	put(t, s, m2, "")
	resolve := func(want digest.Digest) {
		t.Helper()
		got, err := s.ResolveTag(ctx, repo, "latest")
		if want == "" {
			wantNotFound(t, "ResolveTag", err)
			return
		}
		if err != nil || got != want {
			t.Fatalf("ResolveTag = %s, %v; want %s", got, err, want)
		}
	}
	tags := func(want ...string) {
		t.Helper()
		for range 2 { // the second from a cache, if the backend keeps one
			got, err := s.Tags(ctx, repo, "", 10)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("Tags = %q, %v; want %q", got, err, want)
			}
		}
	}
	resolve(m1.Digest)
	tags("latest")
	put(t, s, m2, "latest") // retag
	resolve(m2.Digest)
	put(t, s, m2, "v2")
	tags("latest", "v2")
	if err := s.DeleteTag(ctx, repo, "latest"); err != nil {
		t.Fatal(err)
	}
	resolve("")
	tags("v2")

	put(t, s, m1, "latest")
	resolve(m1.Digest)
	tags("latest", "v2")
	if _, err := s.GetManifest(ctx, repo, m1.Digest); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteManifest(ctx, repo, m1.Digest); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetManifest(ctx, repo, m1.Digest)
	wantNotFound(t, "GetManifest after DeleteManifest", err)
	resolve("")
	tags("v2")
}
