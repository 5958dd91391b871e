package registry_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
)

// TestBlobsCheckedAtRest: with WithBlobsCheckedAtRest, whole blobs and
// ranges are served as stored, and a blob quarantined by fsck is unknown
// to HEAD and GET alike until it is pushed again.
func TestBlobsCheckedAtRest(t *testing.T) {
	var st *fs.Store
	srv := newServerWrapped(t, func(s storage.Store) storage.Store { st = s.(*fs.Store); return s }, registry.WithBlobsCheckedAtRest())
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
