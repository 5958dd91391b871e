package registry_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func TestPurgeUploads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := sqlite.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	now := time.Now().UTC()
	for _, u := range []store.Upload{
		{ID: "old", Repository: "r", Started: now.Add(-48 * time.Hour)},
		{ID: "new", Repository: "r", Started: now},
		// Started long ago, but written to since: not abandoned.
		{ID: "long", Repository: "r", Started: now.Add(-72 * time.Hour), Updated: now.Add(-time.Hour)},
	} {
		if err := blobs.StartUpload(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := meta.CreateUpload(ctx, u, store.UploadCaps{}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := registry.PurgeUploads(ctx, blobs, meta, now.Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeUploads = %d, %v; want 1, nil", n, err)
	}
	if _, err := blobs.UploadSize(ctx, "old"); err == nil {
		t.Error("old upload's bytes survived the purge")
	}
	if _, err := meta.GetUpload(ctx, "old"); err == nil {
		t.Error("old upload's record survived the purge")
	}
	for _, id := range []string{"new", "long"} {
		if _, err := blobs.UploadSize(ctx, id); err != nil {
			t.Errorf("%s upload was purged: %v", id, err)
		}
	}
}
