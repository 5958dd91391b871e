package sqlite

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

// BenchmarkResolveAndGet is the registry's GET-by-tag path: resolve the tag,
// then read the manifest.
func BenchmarkResolveAndGet(b *testing.B) {
	ctx := b.Context()
	s, _ := openTemp(b)
	var m *store.Manifest
	for i := range 10 {
		for _, l := range []string{"c", "l1", "l2"} {
			if err := s.LinkBlob(ctx, fmt.Sprintf("repo%d", i), digest.FromString(l), 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 1000 {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"i":%d,"pad":"%0900d"}`, i, 0)
		m = &store.Manifest{
			Repository: fmt.Sprintf("repo%d", i%10), Digest: digest.FromBytes(content),
			MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(content)), Content: content,
			Blobs: []digest.Digest{digest.FromString("c"), digest.FromString("l1"), digest.FromString("l2")},
		}
		if _, err := s.PutManifest(ctx, m, fmt.Sprintf("v%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	tag := "v999"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := s.ResolveTag(ctx, m.Repository, tag)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.GetManifest(ctx, m.Repository, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutManifest is the write path of a push: a manifest and a tag
// in one transaction (storetest.BenchPutManifest).
func BenchmarkPutManifest(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchPutManifest(b, s)
}

// BenchmarkTags is a tags list of 1000 tags (storetest.BenchTags).
func BenchmarkTags(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchTags(b, s)
}
