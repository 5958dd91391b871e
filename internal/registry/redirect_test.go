package registry_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
)

// TestBlobRedirect: with WithBlobURL, a whole-blob GET is a 307 to the URL
// (never cached); ranged GETs, HEADs, an empty URL and a failing URL
// function stream the bytes; a blob not linked in the repository is never
// looked up for a URL.
func TestBlobRedirect(t *testing.T) {
	var calls []string
	mode := "url"
	srv := newServer(t, registry.WithBlobURL(func(r *http.Request, repo string, dgst digest.Digest) (string, error) {
		calls = append(calls, repo)
		switch mode {
		case "empty":
			return "", nil
		case "error":
			return "", errors.New("presign failed")
		}
		return "https://bucket.example/" + dgst.Encoded() + "?X-Amz-Signature=abc", nil
	}))
	data := []byte("redirected blob bytes")
	d := digest.FromBytes(data)
	resp, err := http.Post(srv.URL+"/v2/app/blobs/uploads/?digest="+string(d), "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path, rangeHeader string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if rangeHeader != "" {
			req.Header.Set("Range", rangeHeader)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	blob := "/v2/app/blobs/" + string(d)

	resp, _ = get(http.MethodGet, blob, "")
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "https://bucket.example/"+d.Encoded()+"?X-Amz-Signature=abc" {
		t.Fatalf("GET = %d, Location %q; want 307 to the URL", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" || resp.Header.Get("ETag") != "" {
		t.Errorf("redirect Cache-Control %q, ETag %q; want no-store and none", cc, resp.Header.Get("ETag"))
	}
	if resp.Header.Get("Docker-Content-Digest") != string(d) {
		t.Errorf("redirect lacks Docker-Content-Digest")
	}

	if resp, body := get(http.MethodGet, blob, "bytes=0-9"); resp.StatusCode != http.StatusPartialContent || body != string(data[:10]) {
		t.Errorf("ranged GET = %d %q, want 206 streamed", resp.StatusCode, body)
	}
	if resp, _ := get(http.MethodHead, blob, ""); resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
		t.Errorf("HEAD = %d, Location %q; want 200 from metadata", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, m := range []string{"empty", "error"} {
		mode = m
		if resp, body := get(http.MethodGet, blob, ""); resp.StatusCode != http.StatusOK || body != string(data) {
			t.Errorf("%s URL: GET = %d %q, want 200 streamed", m, resp.StatusCode, body)
		}
	}
	calls = nil
	if resp, _ := get(http.MethodGet, "/v2/other/blobs/"+string(d), ""); resp.StatusCode != http.StatusNotFound || len(calls) != 0 {
		t.Errorf("unlinked blob: GET = %d with %d URL calls; want 404 and none", resp.StatusCode, len(calls))
	}
}
