package registry_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// newServer starts the registry on the embedded default backends.
func newServer(t *testing.T, opts ...registry.Option) *httptest.Server {
	t.Helper()
	return newServerWrapped(t, nil, opts...)
}

// newServerWrapped is newServer with the blob store passed through wrap
// (nil: as it is), for tests that inject faults.
func newServerWrapped(t *testing.T, wrap func(storage.Store) storage.Store, opts ...registry.Option) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	var blobs storage.Store
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		blobs = wrap(blobs)
	}
	meta, err := sqlite.Open(t.Context(), filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	h, err := registry.New(append([]registry.Option{registry.WithBlobStore(blobs), registry.WithMetadata(meta)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type call struct {
	name    string
	method  string
	path    string
	header  map[string]string
	body    string
	status  int
	code    string            // OCI error code expected in the body
	want    map[string]string // response headers expected (exact)
	wantHas map[string]string // response headers expected to contain
	body2   string            // response body expected (exact), if not ""
}

func (c call) run(t *testing.T, base string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), c.method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != c.status {
		t.Fatalf("%s %s = %d, want %d; body %s", c.method, c.path, resp.StatusCode, c.status, body)
	}
	if c.code != "" {
		var e struct {
			Errors []struct{ Code string } `json:"errors"`
		}
		if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 || e.Errors[0].Code != c.code {
			t.Fatalf("%s %s: body %s, want error code %s", c.method, c.path, body, c.code)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: error Content-Type = %q", c.method, c.path, ct)
		}
	}
	for k, v := range c.want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", c.method, c.path, k, got, v)
		}
	}
	for k, v := range c.wantHas {
		if got := resp.Header.Get(k); !strings.Contains(got, v) {
			t.Errorf("%s %s: header %s = %q, want it to contain %q", c.method, c.path, k, got, v)
		}
	}
	if c.body2 != "" && string(body) != c.body2 {
		t.Errorf("%s %s: body = %s, want %s", c.method, c.path, body, c.body2)
	}
	return resp
}

func sha(s string) string { return string(digest.FromString(s)) }

func sha512of(s string) string {
	sum := sha512.Sum512([]byte(s))
	return "sha512:" + hex.EncodeToString(sum[:])
}

func manifestJSON(config string, layers ...string) string {
	var ls []string
	for _, l := range layers {
		ls = append(ls, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}`, sha(l), len(l)))
	}
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[%s]}`,
		sha(config), len(config), strings.Join(ls, ","))
}

const ociManifest = "application/vnd.oci.image.manifest.v1+json"

// TestCalls walks every endpoint of the API, in order, on one registry.
func TestCalls(t *testing.T) {
	srv := newServer(t)
	const cfg, layer = `{"architecture":"amd64"}`, "layer-bytes"
	man := manifestJSON(cfg, layer)
	manDigest := sha(man)
	ref := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d},"annotations":{"k":"v"}}`, sha("{}"), manDigest, len(man))
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}]}`, manDigest, len(man))
	big := `{"schemaVersion":2,"pad":"` + strings.Repeat("x", 4<<20) + `"}`
	var uploadLoc string

	calls := []call{
		{name: "base", method: "GET", path: "/v2/", status: 200, body2: "{}", want: map[string]string{"Docker-Distribution-API-Version": "registry/2.0"}},
		{name: "base head", method: "HEAD", path: "/v2/", status: 200},
		{name: "base post", method: "POST", path: "/v2/", status: 405, code: "UNSUPPORTED"},
		{name: "unknown path", method: "GET", path: "/v2/foo/bar", status: 404, code: "NOT_FOUND"},
		{name: "bad name", method: "GET", path: "/v2/Foo/tags/list", status: 400, code: "NAME_INVALID"},
		{name: "bad name dots", method: "GET", path: "/v2/a/../b/blobs/" + sha("x"), status: 400, code: "NAME_INVALID"},
		{name: "bad digest", method: "GET", path: "/v2/foo/blobs/sha256:abc", status: 400, code: "DIGEST_INVALID"},
		{name: "bad digest alg", method: "HEAD", path: "/v2/foo/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", status: 400},
		{name: "blob unknown", method: "GET", path: "/v2/foo/blobs/" + sha("x"), status: 404, code: "BLOB_UNKNOWN"},
		{name: "monolithic", method: "POST", path: "/v2/foo/blobs/uploads/?digest=" + sha(cfg), body: cfg, status: 201,
			want: map[string]string{"Location": "/v2/foo/blobs/" + sha(cfg), "Docker-Content-Digest": sha(cfg)}},
		{name: "monolithic mismatch", method: "POST", path: "/v2/foo/blobs/uploads/?digest=" + sha("other"), body: cfg, status: 400, code: "DIGEST_INVALID"},
		{name: "monolithic sha512", method: "POST", path: "/v2/foo/blobs/uploads/?digest=" + sha512of("five"), body: "five", status: 201},
		{name: "get sha512", method: "GET", path: "/v2/foo/blobs/" + sha512of("five"), status: 200, body2: "five"},
		{name: "head blob", method: "HEAD", path: "/v2/foo/blobs/" + sha(cfg), status: 200,
			want: map[string]string{"Content-Length": fmt.Sprint(len(cfg)), "Docker-Content-Digest": sha(cfg)}},
		{name: "get blob", method: "GET", path: "/v2/foo/blobs/" + sha(cfg), status: 200, body2: cfg},
		{name: "range", method: "GET", path: "/v2/foo/blobs/" + sha(cfg), header: map[string]string{"Range": "bytes=1-4"}, status: 206,
			body2: cfg[1:5], want: map[string]string{"Content-Range": fmt.Sprintf("bytes 1-4/%d", len(cfg))}},
		{name: "range suffix", method: "GET", path: "/v2/foo/blobs/" + sha(cfg), header: map[string]string{"Range": "bytes=-3"}, status: 206, body2: cfg[len(cfg)-3:]},
		{name: "range unsatisfiable", method: "GET", path: "/v2/foo/blobs/" + sha(cfg), header: map[string]string{"Range": "bytes=999-"}, status: 416,
			want: map[string]string{"Content-Range": fmt.Sprintf("bytes */%d", len(cfg))}},
		{name: "blob not in other repo", method: "GET", path: "/v2/bar/blobs/" + sha(cfg), status: 404, code: "BLOB_UNKNOWN"},
		{name: "mount from", method: "POST", path: "/v2/bar/blobs/uploads/?mount=" + sha(cfg) + "&from=foo", status: 201,
			want: map[string]string{"Location": "/v2/bar/blobs/" + sha(cfg)}},
		{name: "mount from wrong repo", method: "POST", path: "/v2/bar/blobs/uploads/?mount=" + sha512of("five") + "&from=baz", status: 202},
		{name: "mount without from", method: "POST", path: "/v2/baz/blobs/uploads/?mount=" + sha512of("five"), status: 201},
		{name: "mount bad digest", method: "POST", path: "/v2/baz/blobs/uploads/?mount=sha256:zz", status: 400, code: "DIGEST_INVALID"},
		{name: "mount bad from", method: "POST", path: "/v2/baz/blobs/uploads/?mount=" + sha(cfg) + "&from=BAD", status: 400, code: "NAME_INVALID"},
		{name: "mount unknown", method: "POST", path: "/v2/baz/blobs/uploads/?mount=" + sha("nope"), status: 202},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) { c.run(t, srv.URL) })
	}

	// Chunked upload of the layer.
	t.Run("start upload", func(t *testing.T) {
		resp := call{method: "POST", path: "/v2/foo/blobs/uploads/", status: 202, want: map[string]string{"Range": "0-0"}}.run(t, srv.URL)
		uploadLoc = resp.Header.Get("Location")
		if !strings.HasPrefix(uploadLoc, "/v2/foo/blobs/uploads/") {
			t.Fatalf("Location = %q", uploadLoc)
		}
	})
	other := strings.Replace(uploadLoc, "/v2/foo/", "/v2/bar/", 1)
	chunked := []call{
		{name: "patch 1", method: "PATCH", path: uploadLoc, body: layer[:5], header: map[string]string{"Content-Range": "0-4", "Content-Type": "application/octet-stream"},
			status: 202, want: map[string]string{"Range": "0-4", "Location": uploadLoc}},
		{name: "patch out of order", method: "PATCH", path: uploadLoc, body: layer[7:], header: map[string]string{"Content-Range": fmt.Sprintf("7-%d", len(layer)-1)}, status: 416,
			want: map[string]string{"Range": "0-4"}},
		{name: "patch bad range", method: "PATCH", path: uploadLoc, body: "x", header: map[string]string{"Content-Range": "zz"}, status: 416},
		{name: "status", method: "GET", path: uploadLoc, status: 204, want: map[string]string{"Range": "0-4"}},
		{name: "upload in other repo", method: "GET", path: other, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "patch in other repo", method: "PATCH", path: other, body: "x", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "patch stream", method: "PATCH", path: uploadLoc, body: layer[5:], status: 202, want: map[string]string{"Range": fmt.Sprintf("0-%d", len(layer)-1)}},
		{name: "put no digest", method: "PUT", path: uploadLoc, status: 400, code: "DIGEST_INVALID"},
		{name: "put wrong digest", method: "PUT", path: uploadLoc + "?digest=" + sha("zzz"), status: 400, code: "DIGEST_INVALID"},
		{name: "put", method: "PUT", path: uploadLoc + "?digest=" + sha(layer), status: 201, want: map[string]string{"Docker-Content-Digest": sha(layer)}},
		{name: "upload gone", method: "GET", path: uploadLoc, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "unknown upload", method: "PATCH", path: "/v2/foo/blobs/uploads/nope", body: "x", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
	}
	for _, c := range chunked {
		t.Run(c.name, func(t *testing.T) { c.run(t, srv.URL) })
	}
	t.Run("cancel", func(t *testing.T) {
		loc := call{method: "POST", path: "/v2/foo/blobs/uploads/", status: 202}.run(t, srv.URL).Header.Get("Location")
		call{method: "DELETE", path: loc, status: 204}.run(t, srv.URL)
		call{method: "GET", path: loc, status: 404, code: "BLOB_UPLOAD_UNKNOWN"}.run(t, srv.URL)
		call{method: "DELETE", path: loc, status: 404, code: "BLOB_UPLOAD_UNKNOWN"}.run(t, srv.URL)
	})
	t.Run("put with final chunk", func(t *testing.T) {
		loc := call{method: "POST", path: "/v2/foo/blobs/uploads/", status: 202}.run(t, srv.URL).Header.Get("Location")
		call{method: "PUT", path: loc + "?digest=" + sha("{}"), body: "{}", status: 201}.run(t, srv.URL)
	})

	manifests := []call{
		{name: "manifest missing blob", method: "PUT", path: "/v2/foo/manifests/v1", body: manifestJSON(cfg, "absent"), header: map[string]string{"Content-Type": ociManifest},
			status: 400, code: "MANIFEST_BLOB_UNKNOWN"},
		{name: "manifest lies about a layer's size", method: "PUT", path: "/v2/foo/manifests/v1",
			body: strings.Replace(man, fmt.Sprintf(`"size":%d}]`, len(layer)), `"size":999999}]`, 1), header: map[string]string{"Content-Type": ociManifest},
			status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest lies about the config's size", method: "PUT", path: "/v2/foo/manifests/v1",
			body: strings.Replace(man, fmt.Sprintf(`"size":%d},"layers"`, len(cfg)), `"size":1},"layers"`, 1), header: map[string]string{"Content-Type": ociManifest},
			status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest invalid", method: "PUT", path: "/v2/foo/manifests/v1", body: "{", header: map[string]string{"Content-Type": ociManifest}, status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest type mismatch", method: "PUT", path: "/v2/foo/manifests/v1", body: man, header: map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}, status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest too big", method: "PUT", path: "/v2/foo/manifests/v1", body: big, header: map[string]string{"Content-Type": ociManifest}, status: 413},
		{name: "manifest bad tag", method: "PUT", path: "/v2/foo/manifests/-bad", body: man, header: map[string]string{"Content-Type": ociManifest}, status: 400, code: "TAG_INVALID"},
		{name: "manifest digest mismatch", method: "PUT", path: "/v2/foo/manifests/" + sha("x"), body: man, header: map[string]string{"Content-Type": ociManifest}, status: 400, code: "DIGEST_INVALID"},
		{name: "put manifest", method: "PUT", path: "/v2/foo/manifests/v1", body: man, header: map[string]string{"Content-Type": ociManifest}, status: 201,
			want: map[string]string{"Docker-Content-Digest": manDigest, "Location": "/v2/foo/manifests/" + manDigest}},
		{name: "put manifest by sha512", method: "PUT", path: "/v2/foo/manifests/" + sha512of(man), body: man, header: map[string]string{"Content-Type": ociManifest}, status: 201,
			want: map[string]string{"Docker-Content-Digest": sha512of(man)}},
		{name: "get by tag", method: "GET", path: "/v2/foo/manifests/v1", header: map[string]string{"Accept": ociManifest}, status: 200, body2: man,
			want: map[string]string{"Content-Type": ociManifest, "Docker-Content-Digest": manDigest}},
		{name: "head by digest", method: "HEAD", path: "/v2/foo/manifests/" + manDigest, status: 200, want: map[string]string{"Content-Length": fmt.Sprint(len(man))}},
		{name: "get wildcard accept", method: "GET", path: "/v2/foo/manifests/v1", header: map[string]string{"Accept": "*/*"}, status: 200},
		{name: "get not acceptable", method: "GET", path: "/v2/foo/manifests/v1", header: map[string]string{"Accept": mediaDockerList}, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "get unknown tag", method: "GET", path: "/v2/foo/manifests/v2", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "get in other repo", method: "GET", path: "/v2/bar/manifests/" + manDigest, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "put referrer", method: "PUT", path: "/v2/foo/manifests/" + sha(ref), body: ref, header: map[string]string{"Content-Type": ociManifest}, status: 201,
			want: map[string]string{"OCI-Subject": manDigest}},
		{name: "referrers", method: "GET", path: "/v2/foo/referrers/" + manDigest, status: 200, wantHas: map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}},
		{name: "referrers filtered", method: "GET", path: "/v2/foo/referrers/" + manDigest + "?artifactType=application/vnd.example.sig", status: 200,
			want: map[string]string{"OCI-Filters-Applied": "artifactType"}},
		{name: "referrers bad digest", method: "GET", path: "/v2/foo/referrers/sha256:xyz", status: 400, code: "DIGEST_INVALID"},
		{name: "referrers none", method: "GET", path: "/v2/foo/referrers/" + sha("none"), status: 200,
			body2: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`},
		{name: "put index", method: "PUT", path: "/v2/foo/manifests/multi", body: index, header: map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}, status: 201},
		{name: "index lies about a child's size", method: "PUT", path: "/v2/foo/manifests/multi",
			body: strings.Replace(index, fmt.Sprintf(`"size":%d}`, len(man)), `"size":7}`, 1), header: map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"},
			status: 400, code: "MANIFEST_INVALID"},
		{name: "index missing child", method: "PUT", path: "/v2/bar/manifests/multi", body: index, header: map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}, status: 400, code: "MANIFEST_BLOB_UNKNOWN"},
		{name: "tags", method: "GET", path: "/v2/foo/tags/list", status: 200, body2: `{"name":"foo","tags":["multi","v1"]}`},
		{name: "tags page", method: "GET", path: "/v2/foo/tags/list?n=1", status: 200, body2: `{"name":"foo","tags":["multi"]}`,
			want: map[string]string{"Link": `</v2/foo/tags/list?last=multi&n=1>; rel="next"`}},
		{name: "tags last", method: "GET", path: "/v2/foo/tags/list?n=1&last=multi", status: 200, body2: `{"name":"foo","tags":["v1"]}`, want: map[string]string{"Link": ""}},
		{name: "tags bad n", method: "GET", path: "/v2/foo/tags/list?n=-1", status: 400, code: "PAGINATION_NUMBER_INVALID"},
		{name: "tags unknown repo", method: "GET", path: "/v2/nothing/tags/list", status: 404, code: "NAME_UNKNOWN"},
		{name: "catalog", method: "GET", path: "/v2/_catalog", status: 200, body2: `{"repositories":["bar","baz","foo"]}`},
		{name: "catalog page", method: "GET", path: "/v2/_catalog?n=2", status: 200, body2: `{"repositories":["bar","baz"]}`,
			want: map[string]string{"Link": `</v2/_catalog?last=baz&n=2>; rel="next"`}},
		{name: "catalog n clamped", method: "GET", path: "/v2/_catalog?n=999999999", status: 200},
		{name: "delete tag", method: "DELETE", path: "/v2/foo/manifests/multi", status: 202},
		{name: "deleted tag", method: "GET", path: "/v2/foo/manifests/multi", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "delete manifest", method: "DELETE", path: "/v2/foo/manifests/" + sha(ref), status: 202},
		{name: "deleted manifest", method: "HEAD", path: "/v2/foo/manifests/" + sha(ref), status: 404},
		{name: "delete unknown manifest", method: "DELETE", path: "/v2/foo/manifests/" + sha("x"), status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "delete blob", method: "DELETE", path: "/v2/bar/blobs/" + sha(cfg), status: 202},
		{name: "deleted blob", method: "GET", path: "/v2/bar/blobs/" + sha(cfg), status: 404, code: "BLOB_UNKNOWN"},
		{name: "blob still in foo", method: "HEAD", path: "/v2/foo/blobs/" + sha(cfg), status: 200},
		{name: "delete unknown blob", method: "DELETE", path: "/v2/bar/blobs/" + sha(cfg), status: 404, code: "BLOB_UNKNOWN"},
		{name: "manifest method", method: "PATCH", path: "/v2/foo/manifests/v1", status: 405, code: "UNSUPPORTED"},
	}
	for _, c := range manifests {
		t.Run(c.name, func(t *testing.T) { c.run(t, srv.URL) })
	}
}

const mediaDockerList = "application/vnd.docker.distribution.manifest.list.v2+json"

// TestReferrersContent checks the index the referrers API returns.
func TestReferrersContent(t *testing.T) {
	srv := newServer(t)
	call{method: "POST", path: "/v2/r/blobs/uploads/?digest=" + sha("{}"), body: "{}", status: 201}.run(t, srv.URL)
	subject := sha("subject")
	put := func(artifactType string) string {
		m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":%q,"digest":%q,"size":1},"annotations":{"a":%q}}`,
			ociManifest, artifactType, sha("{}"), ociManifest, subject, artifactType)
		call{method: "PUT", path: "/v2/r/manifests/" + sha(m), body: m, header: map[string]string{"Content-Type": ociManifest}, status: 201}.run(t, srv.URL)
		return sha(m)
	}
	sig, sbom := put("application/vnd.example.sig"), put("application/vnd.example.sbom")
	get := func(q string) []map[string]any {
		resp, err := http.Get(srv.URL + "/v2/r/referrers/" + subject + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var idx struct{ Manifests []map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&idx); err != nil {
			t.Fatal(err)
		}
		return idx.Manifests
	}
	if got := get(""); len(got) != 2 {
		t.Fatalf("referrers = %v, want 2 entries (%s, %s)", got, sig, sbom)
	}
	got := get("?artifactType=application/vnd.example.sbom")
	if len(got) != 1 || got[0]["digest"] != sbom || got[0]["artifactType"] != "application/vnd.example.sbom" {
		t.Fatalf("filtered referrers = %v, want only %s", got, sbom)
	}
	if ann, _ := got[0]["annotations"].(map[string]any); ann["a"] != "application/vnd.example.sbom" {
		t.Errorf("annotations = %v", got[0]["annotations"])
	}
}

// TestBlobStreaming pushes a blob larger than any buffer and reads it back.
func TestBlobStreaming(t *testing.T) {
	srv := newServer(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	d := digest.FromBytes(data)
	resp, err := http.Post(srv.URL+"/v2/big/blobs/uploads/?digest="+string(d), "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/v2/big/blobs/" + string(d))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, data) {
		t.Fatalf("GET returned %d bytes, want %d identical", len(got), len(data))
	}
}
