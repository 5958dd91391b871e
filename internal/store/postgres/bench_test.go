package postgres

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

// BenchmarkGetTaggedManifest is the registry's GET-by-tag path on
// PostgreSQL: one query per request, nothing cached in the process.
func BenchmarkGetTaggedManifest(b *testing.B) {
	ctx := b.Context()
	db := openBench(b)
	layers := []digest.Digest{digest.FromString("c"), digest.FromString("l1"), digest.FromString("l2")}
	for _, l := range layers {
		if err := db.LinkBlob(ctx, "app", l, 1); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"i":%d,"pad":"%0900d"}`, i, 0)
		m := &store.Manifest{
			Repository: "app", Digest: digest.FromBytes(content),
			MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(content)), Content: content,
			Blobs: layers,
		}
		if _, err := db.PutManifest(ctx, m, fmt.Sprintf("v%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GetTaggedManifest(ctx, "app", "v99"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutManifest is the write path of a push: a manifest and a tag
// in one transaction (storetest.BenchPutManifest).
func BenchmarkPutManifest(b *testing.B) {
	db := openBench(b)
	storetest.BenchPutManifest(b, db)
}

func openBench(b *testing.B) *DB {
	b.Helper()
	db, err := Open(b.Context(), pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkTags is a tags list of 1000 tags (storetest.BenchTags).
func BenchmarkTags(b *testing.B) {
	db := openBench(b)
	storetest.BenchTags(b, db)
}
