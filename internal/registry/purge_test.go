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
	} {
		if err := blobs.StartUpload(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := meta.CreateUpload(ctx, u); err != nil {
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
	if _, err := blobs.UploadSize(ctx, "new"); err != nil {
		t.Errorf("new upload was purged: %v", err)
	}
}
