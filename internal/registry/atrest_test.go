package registry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// TestBlobsCheckedAtRest: with WithBlobsCheckedAtRest, whole blobs and
// ranges are served as stored, and a blob quarantined by fsck is unknown
// to HEAD and GET alike until it is pushed again.
func TestBlobsCheckedAtRest(t *testing.T) {
	var st *fs.Store
	srv := newServerWrapped(t, func(s storage.Store) storage.Store { st = s.(*fs.Store); return s },
		registry.WithBlobsCheckedAtRest(func() bool { return true }))
	content := strings.Repeat("layer bytes ", 50000)
	dgst := sha(content)
	push := call{name: "push", method: "POST", path: "/v2/acme/app/blobs/uploads/?digest=" + dgst, body: content, status: http.StatusCreated}
	push.run(t, srv.URL)

	call{name: "get", method: "GET", path: "/v2/acme/app/blobs/" + dgst, status: http.StatusOK, body2: content}.run(t, srv.URL)
	call{name: "range", method: "GET", path: "/v2/acme/app/blobs/" + dgst, header: map[string]string{"Range": "bytes=12-23"},
		status: http.StatusPartialContent, body2: content[12:24]}.run(t, srv.URL)

	if _, err := st.Quarantine(t.Context(), digest.Digest(dgst)); err != nil {
		t.Fatal(err)
	}
	call{name: "head quarantined", method: "HEAD", path: "/v2/acme/app/blobs/" + dgst, status: http.StatusNotFound}.run(t, srv.URL)
	call{name: "get quarantined", method: "GET", path: "/v2/acme/app/blobs/" + dgst, status: http.StatusNotFound, code: "BLOB_UNKNOWN"}.run(t, srv.URL)

	push.run(t, srv.URL)
	call{name: "head pushed again", method: "HEAD", path: "/v2/acme/app/blobs/" + dgst, status: http.StatusOK}.run(t, srv.URL)
}

// TestBlobsUncheckedAfterACrash: while the store says its blobs are not
// all checked again (after a crash), whole-blob GETs are hashed, and bytes
// that do not match are never served as the blob.
func TestBlobsUncheckedAfterACrash(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	blobs, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	var checked atomic.Bool
	h, err := registry.New(registry.WithBlobStore(blobs), registry.WithMetadata(meta), registry.WithBlobsCheckedAtRest(checked.Load))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	content := strings.Repeat("layer bytes ", 50000)
	dgst := digest.FromString(content)
	call{name: "push", method: "POST", path: "/v2/acme/app/blobs/uploads/?digest=" + dgst.String(), body: content, status: http.StatusCreated}.run(t, srv.URL)
	p := filepath.Join(root, "blobs", "sha256", dgst.Encoded()[:2], dgst.Encoded())
	if err := os.WriteFile(p, []byte(strings.ToUpper(content)), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func() (string, error) {
		resp, err := http.Get(srv.URL + "/v2/acme/app/blobs/" + dgst.String())
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := get(); err == nil {
		t.Fatalf("GET of a damaged blob while unchecked = %d bytes and no error, want the transfer broken", len(body))
	}
	checked.Store(true)
	if body, err := get(); err != nil || body != strings.ToUpper(content) {
		t.Fatalf("GET once checked = %d bytes, %v: want the stored bytes as they are (fsck's to find)", len(body), err)
	}
}
