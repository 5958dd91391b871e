package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/faultstore"
)

// newFaultyServer is newServer on a blob store with injectable faults.
func newFaultyServer(t *testing.T) (*httptest.Server, *faultstore.Store) {
	t.Helper()
	var faulty *faultstore.Store
	srv := newServerWrapped(t, func(s storage.Store) storage.Store {
		faulty = faultstore.New(s)
		return faulty
	})
	return srv, faulty
}

// faultCall makes a request and returns its status, headers and body; a
// transport error (an aborted response) is returned, not fatal.
func faultCall(t *testing.T, method, url string, body []byte, hdr map[string]string) (int, http.Header, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// TestStorageFaultsOnPush: a failing or timing-out blob backend gives the
// client a retryable 5xx with OCI error JSON; nothing half-written becomes
// visible; an upload whose chunk failed resumes at its old offset; and a
// manifest can never be stored pointing at the blob that did not land.
func TestStorageFaultsOnPush(t *testing.T) {
	srv, faulty := newFaultyServer(t)
	data := bytes.Repeat([]byte("layer bytes "), 100_000)
	d := digest.FromBytes(data)
	blobURL := srv.URL + "/v2/app/blobs/" + string(d)
	boom := errors.New("backend exploded")

	// Monolithic push: the backend fails, then times out.
	for _, f := range []faultstore.Fault{{Err: boom}, {Err: context.DeadlineExceeded}} {
		faulty.Inject(faultstore.OpPut, f)
		faulty.Inject(faultstore.OpCommitUpload, f)
		status, hdr, body, err := faultCall(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/?digest="+string(d), data, nil)
		if err != nil || status < 500 || !strings.Contains(string(body), `"errors"`) {
			t.Fatalf("push with %v: %d %s %v, want a 5xx with OCI error JSON", f.Err, status, body, err)
		}
		if errors.Is(f.Err, context.DeadlineExceeded) && (status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "") {
			t.Errorf("timeout: %d, Retry-After %q; want 503 with Retry-After", status, hdr.Get("Retry-After"))
		}
		if strings.Contains(string(body), "exploded") {
			t.Errorf("the backend's error text reached the client: %s", body)
		}
		faulty.Clear()
		if status, _, _, _ := faultCall(t, http.MethodHead, blobURL, nil, nil); status != http.StatusNotFound {
			t.Fatalf("HEAD after a failed push = %d, want 404", status)
		}
	}

	// A manifest naming the blob that never landed is refused.
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + string(d) + `","size":` + strconv.Itoa(len(data)) + `},"layers":[]}`)
	status, _, body, _ := faultCall(t, http.MethodPut, srv.URL+"/v2/app/manifests/v1", manifest,
		map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "MANIFEST_BLOB_UNKNOWN") {
		t.Fatalf("manifest over a missing blob: %d %s, want 400 MANIFEST_BLOB_UNKNOWN", status, body)
	}

	// Chunked push: a failing chunk leaves the upload where it was.
	status, hdr, _, _ := faultCall(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/", nil, nil)
	if status != http.StatusAccepted {
		t.Fatalf("start upload = %d", status)
	}
	loc := srv.URL + hdr.Get("Location")
	half := len(data) / 2
	chunk := func(from, to int) (int, http.Header) {
		status, hdr, _, _ := faultCall(t, http.MethodPatch, loc, data[from:to], map[string]string{
			"Content-Type": "application/octet-stream", "Content-Range": strconv.Itoa(from) + "-" + strconv.Itoa(to-1)})
		return status, hdr
	}
	if status, _ := chunk(0, half); status != http.StatusAccepted {
		t.Fatalf("first chunk = %d", status)
	}
	faulty.Inject(faultstore.OpWriteUpload, faultstore.Fault{Err: context.DeadlineExceeded, Times: 1})
	if status, _ := chunk(half, len(data)); status != http.StatusServiceUnavailable {
		t.Fatalf("chunk on a timing-out backend = %d, want 503", status)
	}
	status, hdr, _, _ = faultCall(t, http.MethodGet, loc, nil, nil)
	if status != http.StatusNoContent || hdr.Get("Range") != "0-"+strconv.Itoa(half-1) {
		t.Fatalf("upload status after the failed chunk = %d, Range %q; want 204, 0-%d", status, hdr.Get("Range"), half-1)
	}
	if status, _ := chunk(half, len(data)); status != http.StatusAccepted {
		t.Fatalf("retried chunk = %d", status)
	}
	faulty.Inject(faultstore.OpCommitUpload, faultstore.Fault{Err: boom, Times: 1})
	put := loc + "&digest=" + string(d)
	if !strings.Contains(loc, "?") {
		put = loc + "?digest=" + string(d)
	}
	if status, _, _, _ := faultCall(t, http.MethodPut, put, nil, nil); status != http.StatusInternalServerError {
		t.Fatalf("commit on a failing backend = %d, want 500", status)
	}
	if status, _, _, _ := faultCall(t, http.MethodHead, blobURL, nil, nil); status != http.StatusNotFound {
		t.Fatalf("HEAD after a failed commit = %d, want 404", status)
	}
	if status, _, _, _ := faultCall(t, http.MethodPut, put, nil, nil); status != http.StatusCreated {
		t.Fatalf("retried commit = %d, want 201", status)
	}
	if status, _, body, _ := faultCall(t, http.MethodGet, blobURL, nil, nil); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET after the retried push = %d, %d bytes", status, len(body))
	}
}

// TestStorageFaultsOnPull: bytes that no longer match their digest, or a
// read cut short, never reach the client as a complete 200 response: the
// connection is aborted before the last bytes. Slow and failing backends
// are served correctly or answered with a 5xx.
func TestStorageFaultsOnPull(t *testing.T) {
	srv, faulty := newFaultyServer(t)
	for _, size := range []int{10, 300_000} { // within and beyond the held-back tail
		data := bytes.Repeat([]byte("x"), size)
		copy(data, strconv.Itoa(size))
		d := digest.FromBytes(data)
		if status, _, _, _ := faultCall(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/?digest="+string(d), data, nil); status != http.StatusCreated {
			t.Fatalf("push = %d", status)
		}
		blobURL := srv.URL + "/v2/app/blobs/" + string(d)
		for name, f := range map[string]faultstore.Fault{
			"corrupt":   {Corrupt: true},
			"truncated": {TruncateAt: int64(size / 2)},
		} {
			faulty.Inject(faultstore.OpOpen, f)
			status, _, body, err := faultCall(t, http.MethodGet, blobURL, nil, nil)
			if err == nil && status == http.StatusOK {
				t.Errorf("%d bytes, %s: GET = 200 with %d bytes and no error, want an aborted response", size, name, len(body))
			}
			if err == nil && bytes.Equal(body, data) {
				t.Errorf("%d bytes, %s: the whole blob arrived", size, name)
			}
			// HEAD is answered from metadata and never opens the blob.
			if status, _, _, _ := faultCall(t, http.MethodHead, blobURL, nil, nil); status != http.StatusOK {
				t.Errorf("%d bytes, %s: HEAD = %d", size, name, status)
			}
			faulty.Clear()
		}
		faulty.Inject(faultstore.OpOpen, faultstore.Fault{Delay: 20 * time.Millisecond})
		if status, _, body, err := faultCall(t, http.MethodGet, blobURL, nil, nil); err != nil || status != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("%d bytes, slow backend: %d, %d bytes, %v", size, status, len(body), err)
		}
		faulty.Inject(faultstore.OpOpen, faultstore.Fault{Err: context.DeadlineExceeded})
		if status, hdr, _, err := faultCall(t, http.MethodGet, blobURL, nil, nil); err != nil || status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("%d bytes, timing-out backend: %d, %v; want 503 with Retry-After", size, status, err)
		}
		faulty.Clear()
		if status, _, body, err := faultCall(t, http.MethodGet, blobURL, nil, nil); err != nil || status != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("%d bytes, healthy again: %d, %d bytes, %v", size, status, len(body), err)
		}
	}
}

// TestWholeBlobPut: on a store that prefers it (S3), POST then PUT with
// the whole blob goes to the blob store as one Put and nothing else: the
// upload is never started in the store (deferred), so nothing is appended,
// committed, sized or cancelled, and no upload is left behind. A wrong
// digest is refused and the same session then takes the right one; an
// empty PUT is the empty blob; a status or a DELETE of a deferred upload
// asks the store nothing; a PATCH starts the upload, and the PUT after it
// commits what was appended.
func TestWholeBlobPut(t *testing.T) {
	srv, counted := newFaultyServer(t)
	counted.PreferPut = true // as the S3 store does
	data := []byte("a whole blob in one PUT")
	d := digest.FromBytes(data)
	start := func() string {
		t.Helper()
		status, hdr, _, _ := faultCall(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/", nil, nil)
		if status != http.StatusAccepted {
			t.Fatalf("POST = %d", status)
		}
		loc := srv.URL + hdr.Get("Location")
		if strings.Contains(loc, "?") {
			return loc + "&digest="
		}
		return loc + "?digest="
	}
	put := start()
	if status, _, body, _ := faultCall(t, http.MethodPut, put+string(digest.FromString("other")), data, nil); status != http.StatusBadRequest ||
		!strings.Contains(string(body), "DIGEST_INVALID") {
		t.Fatalf("whole PUT with a wrong digest = %d %s, want 400 DIGEST_INVALID", status, body)
	}
	if status, _, _, _ := faultCall(t, http.MethodPut, put+string(d), data, nil); status != http.StatusCreated {
		t.Fatalf("whole PUT = %d, want 201", status)
	}
	// The empty blob, PUT without a body.
	empty := digest.FromBytes(nil)
	if status, _, body, _ := faultCall(t, http.MethodPut, start()+string(empty), nil, nil); status != http.StatusCreated {
		t.Fatalf("empty PUT = %d %s, want 201", status, body)
	}
	// A deferred upload's status, and its cancellation.
	loc := strings.Split(start(), "digest=")[0]
	if status, hdr, _, _ := faultCall(t, http.MethodGet, loc, nil, nil); status != http.StatusNoContent || hdr.Get("Range") != "0-0" {
		t.Errorf("GET of a deferred upload = %d, Range %q", status, hdr.Get("Range"))
	}
	if status, _, _, _ := faultCall(t, http.MethodDelete, loc, nil, nil); status != http.StatusNoContent {
		t.Errorf("DELETE of a deferred upload = %d, want 204", status)
	}
	if status, _, _, _ := faultCall(t, http.MethodGet, loc, nil, nil); status != http.StatusNotFound {
		t.Errorf("GET of a cancelled upload = %d, want 404", status)
	}
	for _, op := range []string{faultstore.OpStartUpload, faultstore.OpWriteUpload, faultstore.OpCommitUpload, faultstore.OpUploadSize, faultstore.OpCancelUpload} {
		if n := counted.Calls(op); n != 0 {
			t.Errorf("whole PUTs: %s called %d times, want 0 (one Put each)", op, n)
		}
	}
	if n := counted.Calls(faultstore.OpPut); n != 3 {
		t.Errorf("Put called %d times, want 3 (the wrong digest, the blob, the empty blob)", n)
	}
	if status, _, body, _ := faultCall(t, http.MethodGet, srv.URL+"/v2/app/blobs/"+string(d), nil, nil); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET = %d %q", status, body)
	}
	if status, _, _, _ := faultCall(t, http.MethodGet, strings.Split(put, "digest=")[0], nil, nil); status != http.StatusNotFound {
		t.Errorf("the finished upload still answers: %d", status)
	}

	// PATCH, then PUT with the last chunk: appended and committed.
	put = start()
	first, last := data[:5], data[5:]
	if status, _, _, _ := faultCall(t, http.MethodPatch, strings.Split(put, "digest=")[0], first, map[string]string{
		"Content-Type": "application/octet-stream", "Content-Range": "0-4"}); status != http.StatusAccepted {
		t.Fatalf("PATCH = %d", status)
	}
	if n := counted.Calls(faultstore.OpStartUpload); n != 1 {
		t.Errorf("a PATCH started the upload %d times, want 1", n)
	}
	commits := counted.Calls(faultstore.OpCommitUpload)
	if status, _, _, _ := faultCall(t, http.MethodPut, put+string(d), last, nil); status != http.StatusCreated {
		t.Fatalf("PUT after a PATCH = %d", status)
	}
	if counted.Calls(faultstore.OpCommitUpload) != commits+1 {
		t.Error("a PUT after a PATCH did not commit the upload")
	}

	// A deferred upload closed by a PUT with a Content-Range: started,
	// appended and committed.
	put = start()
	if status, _, body, _ := faultCall(t, http.MethodPut, put+string(d), data, map[string]string{
		"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("0-%d", len(data)-1)}); status != http.StatusCreated {
		t.Fatalf("PUT with a Content-Range = %d %s", status, body)
	}
	if counted.Calls(faultstore.OpStartUpload) != 2 || counted.Calls(faultstore.OpCommitUpload) != commits+2 {
		t.Errorf("PUT with a Content-Range: %d starts, %d commits; want 2 and %d", counted.Calls(faultstore.OpStartUpload), counted.Calls(faultstore.OpCommitUpload), commits+2)
	}
}

// TestWholeBlobPutUploadPath: a store that does not prefer Put gets the
// append and commit, and its uploads start at POST.
func TestWholeBlobPutUploadPath(t *testing.T) {
	srv, counted := newFaultyServer(t)
	data := []byte("through the upload")
	d := digest.FromBytes(data)
	status, hdr, _, _ := faultCall(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/", nil, nil)
	if status != http.StatusAccepted {
		t.Fatalf("POST = %d", status)
	}
	loc := srv.URL + hdr.Get("Location")
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	if status, _, _, _ := faultCall(t, http.MethodPut, loc+sep+"digest="+string(d), data, nil); status != http.StatusCreated {
		t.Fatalf("PUT = %d", status)
	}
	if counted.Calls(faultstore.OpPut) != 0 || counted.Calls(faultstore.OpStartUpload) != 1 || counted.Calls(faultstore.OpCommitUpload) != 1 {
		t.Errorf("Put %d, StartUpload %d, CommitUpload %d times; want 0, 1 and 1",
			counted.Calls(faultstore.OpPut), counted.Calls(faultstore.OpStartUpload), counted.Calls(faultstore.OpCommitUpload))
	}
}

// slowPut is a blob store whose Put moves a fake clock on by took.
type slowPut struct {
	storage.Store
	clock *fakeclock.Clock
	took  time.Duration
}

func (s slowPut) Put(ctx context.Context, dgst digest.Digest, r io.Reader) (int64, error) {
	s.clock.Advance(s.took)
	return s.Store.Put(ctx, dgst, r)
}

// TestLinkCheckSkippedForFreshBytes: a blob this request wrote with Put
// is linked without checking that its bytes are still stored, since
// garbage collection spares bytes younger than its grace period; bytes
// whose writing began longer ago than that (a Put that took minutes), and
// mounted bytes, are checked.
func TestLinkCheckSkippedForFreshBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		took  time.Duration
		stats int
	}{
		{"fresh", time.Second, 0},
		{"slow", 2 * time.Minute, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
			var counted *faultstore.Store
			srv := newServerWrapped(t, func(s storage.Store) storage.Store {
				counted = faultstore.New(slowPut{Store: s, clock: clock, took: tc.took})
				counted.PreferPut = true
				return counted
			}, registry.WithClock(clock.Now))
			// POST ?digest= and POST then PUT: both Put.
			for i, path := range []string{"/v2/app/blobs/uploads/?digest=", ""} {
				data := []byte(fmt.Sprintf("blob %d", i))
				d := digest.FromBytes(data)
				url := srv.URL + path + string(d)
				if path == "" {
					_, hdr, _, _ := faultCall(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/", nil, nil)
					url = srv.URL + hdr.Get("Location") + "?digest=" + string(d)
				}
				method := http.MethodPost
				if path == "" {
					method = http.MethodPut
				}
				if status, _, body, _ := faultCall(t, method, url, data, nil); status != http.StatusCreated {
					t.Fatalf("%s %s = %d %s", method, url, status, body)
				}
			}
			if n := counted.Calls(faultstore.OpStat); n != tc.stats {
				t.Errorf("Put taking %s: bytes checked %d times after linking, want %d", tc.took, n, tc.stats)
			}
		})
	}
}
