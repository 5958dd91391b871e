package storetest

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// BenchTags measures a tags list of 1000 tags on s, the registry's GET
// /v2/<name>/tags/list with n=1000. Each backend's benchmark calls it.
func BenchTags(b *testing.B, s store.Store) {
	ctx := b.Context()
	if err := s.LinkBlob(ctx, "repo", digest.FromString("c"), 1); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"i":%d}`, i)
		m := &store.Manifest{Repository: "repo", Digest: digest.FromBytes(content),
			MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(content)), Content: content,
			Blobs: []digest.Digest{digest.FromString("c")}}
		if _, err := s.PutManifest(ctx, m, fmt.Sprintf("v%04d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		tags, err := s.Tags(ctx, "repo", "", 1000)
		if err != nil || len(tags) != 1000 {
			b.Fatalf("Tags = %d tags, %v", len(tags), err)
		}
	}
}

// BenchPutManifest measures the write path of a push on s: a manifest and
// a tag in one transaction.
func BenchPutManifest(b *testing.B, s store.Store) {
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"i":%d}`, i)
		m := &store.Manifest{Repository: "app", Digest: digest.FromBytes(content), MediaType: "x", Size: int64(len(content)), Content: content}
		if _, err := s.PutManifest(ctx, m, "latest"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
