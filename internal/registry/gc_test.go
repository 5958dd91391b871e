package registry_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// TestPushDuringCollection checks how pushes meet garbage collection: a
// blob whose bytes are being deleted (tombstoned) gets a retryable 503,
// and a manifest whose blob link was collected after the registry checked
// it gets MANIFEST_BLOB_UNKNOWN, storing nothing.
func TestPushDuringCollection(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := sqlite.Open(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	h, err := registry.New(registry.WithBlobStore(blobs), registry.WithMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	doomed := digest.FromString("doomed")
	if ok, err := meta.TombstoneBlob(ctx, doomed); err != nil || !ok {
		t.Fatalf("TombstoneBlob = %v, %v", ok, err)
	}
	resp := call{
		method: http.MethodPost, path: "/v2/app/blobs/uploads/?digest=" + string(doomed), body: "doomed",
		status: http.StatusServiceUnavailable, code: "UNAVAILABLE", want: map[string]string{"Retry-After": "1"},
	}.run(t, srv.URL)
	resp.Body.Close()
	if err := meta.RemoveTombstone(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	call{method: http.MethodPost, path: "/v2/app/blobs/uploads/?digest=" + string(doomed), body: "doomed", status: http.StatusCreated}.run(t, srv.URL)

	// Bytes deleted between their commit and the link: the link is undone.
	gone := digest.FromString("gone")
	if _, err := blobs.Put(ctx, gone, bytes.NewReader([]byte("gone"))); err != nil {
		t.Fatal(err)
	}
	if err := blobs.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := meta.LinkBlob(ctx, "src", gone, 4); err != nil {
		t.Fatal(err)
	}
	call{
		method: http.MethodPost, path: "/v2/app/blobs/uploads/?mount=" + string(gone) + "&from=src",
		status: http.StatusAccepted,
	}.run(t, srv.URL)
	if _, err := meta.BlobSize(ctx, "app", gone); err == nil {
		t.Errorf("BlobSize(app, %s) = nil after a mount of missing bytes, want ErrNotFound", gone)
	}
}
