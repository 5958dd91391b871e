package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// TestCacheSeesOtherProcess: another Store on the same file stands in for
// `registry gc` in another process. Its deletions reach the server's
// cached lookups once a check is due, and at once for a refused push.
func TestCacheSeesOtherProcess(t *testing.T) {
	ctx := t.Context()
	server, path := openTemp(t)
	gc, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()

	layer := digest.FromString("layer")
	if err := server.LinkBlob(ctx, "app", layer, 5); err != nil {
		t.Fatal(err)
	}
	m := &store.Manifest{Repository: "app", Digest: digest.FromString("m"), MediaType: "x", Content: []byte("m"), Size: 1,
		Created: time.Now().Add(-time.Hour)}
	if _, err := server.PutManifest(ctx, m, ""); err != nil {
		t.Fatal(err)
	}
	// Cache both.
	if _, err := server.GetManifest(ctx, "app", m.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := server.BlobSize(ctx, "app", layer); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if ok, err := gc.CollectManifest(ctx, "app", m.Digest, future); err != nil || !ok {
		t.Fatalf("CollectManifest = %v, %v", ok, err)
	}
	if ok, err := gc.CollectBlobLink(ctx, "app", layer, future); err != nil || !ok {
		t.Fatalf("CollectBlobLink = %v, %v", ok, err)
	}

	// A push that finds the cached link gone clears the cache at once.
	if _, err := server.BlobSize(ctx, "app", layer); err != nil {
		t.Fatalf("BlobSize before a check is due = %v, want the cached answer", err)
	}
	withBlob := &store.Manifest{Repository: "app", Digest: digest.FromString("w"), MediaType: "x", Content: []byte("w"), Size: 1,
		Blobs: []digest.Digest{layer}}
	if _, err := server.PutManifest(ctx, withBlob, "latest"); !errors.Is(err, store.ErrBlobUnknown) {
		t.Fatalf("PutManifest = %v, want ErrBlobUnknown", err)
	}
	if _, err := server.BlobSize(ctx, "app", layer); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BlobSize after a refused push = %v, want ErrNotFound", err)
	}

	// Cache the manifest again, make it stale, and let a check come due.
	if _, err := server.PutManifest(ctx, m, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := server.GetManifest(ctx, "app", m.Digest); err != nil {
		t.Fatal(err)
	}
	if ok, err := gc.CollectManifest(ctx, "app", m.Digest, future); err != nil || !ok {
		t.Fatalf("CollectManifest = %v, %v", ok, err)
	}
	server.ext.next.Store(0)
	if _, err := server.GetManifest(ctx, "app", m.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetManifest after a check = %v, want ErrNotFound", err)
	}
}
