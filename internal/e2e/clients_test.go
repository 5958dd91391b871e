package e2e

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// TestMultiArchWithRealClients pushes a two-platform image with crane and
// pulls it back with oras, a client with its own OCI implementation.
func TestMultiArchWithRealClients(t *testing.T) {
	crane := requireTool(t, "crane")
	oras := requireTool(t, "oras")
	srv := startServer(t)
	ctx, cancel := contextWithTimeout(t, 5*time.Minute)
	defer cancel()

	// A two-platform index in an OCI layout, as a build would leave it.
	var idx v1.ImageIndex = empty.Index
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(256<<10, 3)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	src := filepath.Join(t.TempDir(), "src")
	if _, err := layout.Write(src, idx); err != nil {
		t.Fatal(err)
	}
	want, _ := idx.Digest()
	ref := srv.Addr + "/team/multi:v1"

	// Both clients log in with an upstream OIDC token as the password; the
	// registry exchanges it for short-lived access tokens.
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	runTool(t, ctx, env, crane, "auth", "login", srv.Addr, "-u", "e2e", "-p", srv.Token(t))
	runTool(t, ctx, env, crane, "push", "--index", src, ref)
	if got := strings.TrimSpace(runTool(t, ctx, env, crane, "digest", ref)); got != want.String() {
		t.Fatalf("crane digest = %s, want %s", got, want)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		cfg := runTool(t, ctx, env, crane, "config", "--platform", "linux/"+arch, ref)
		if !strings.Contains(cfg, "{") {
			t.Fatalf("crane config for %s = %q", arch, cfg)
		}
	}

	dst := filepath.Join(t.TempDir(), "dst")
	runTool(t, ctx, nil, oras, "copy", "--from-plain-http", "--from-username", "e2e", "--from-password", srv.Token(t),
		ref, "--to-oci-layout", dst+":v1")
	lp, err := layout.FromPath(dst)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, _ := pulled.IndexManifest()
	var tagged *v1.Descriptor
	for i, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] == "v1" {
			tagged = &im.Manifests[i]
		}
	}
	if tagged == nil || tagged.Digest != want {
		t.Fatalf("oras copied %+v, want v1 = index %s", im.Manifests, want)
	}
	got, err := pulled.ImageIndex(want)
	if err != nil {
		t.Fatal(err)
	}
	gm, _ := got.IndexManifest()
	for _, d := range gm.Manifests {
		img, err := got.Image(d.Digest)
		if err != nil {
			t.Fatalf("image %s: %v", d.Digest, err)
		}
		layers, _ := img.Layers()
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rc); err != nil { // verifies the digest
				t.Fatalf("layer of %s: %v", d.Digest, err)
			}
			rc.Close()
		}
	}

	// The tag and catalog views agree with what was pushed.
	if tags := runTool(t, ctx, env, crane, "ls", srv.Addr+"/team/multi"); strings.TrimSpace(tags) != "v1" {
		t.Fatalf("crane ls = %q", tags)
	}
	if cat := runTool(t, ctx, env, crane, "catalog", srv.Addr); !strings.Contains(cat, "team/multi") {
		t.Fatalf("crane catalog = %q", cat)
	}
}

// TestBadInputOverTheWire checks that a real server answers malformed
// requests with the spec's error codes and never a 500.
func TestBadInputOverTheWire(t *testing.T) {
	srv := startServer(t)
	bearer := accessToken(t, srv, "repository:ok:pull,push,delete")
	big := strings.NewReader(`{"schemaVersion":2,"pad":"` + strings.Repeat("x", 5<<20) + `"}`)
	tests := []struct {
		method, path string
		header       map[string]string
		body         io.Reader
		status       int
		code         string
	}{
		{"GET", "/v2/UPPER/tags/list", nil, nil, 400, "NAME_INVALID"},
		{"GET", "/v2/a//b/tags/list", nil, nil, 400, "NAME_INVALID"},
		{"GET", "/v2/" + strings.Repeat("a", 300) + "/tags/list", nil, nil, 400, "NAME_INVALID"},
		{"GET", "/v2/ok/blobs/sha256:1234", nil, nil, 400, "DIGEST_INVALID"},
		{"GET", "/v2/ok/blobs/sha256:..%2F..%2Fetc", nil, nil, 404, "NOT_FOUND"}, // no route, no traversal
		{"GET", "/v2/ok/blobs/sha256:..", nil, nil, 400, "DIGEST_INVALID"},
		{"HEAD", "/v2/ok/manifests/sha999:abcd", nil, nil, 400, ""},
		{"PUT", "/v2/ok/manifests/v1", map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, big, 413, "SIZE_INVALID"},
		{"PUT", "/v2/ok/manifests/v1", map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, strings.NewReader("{"), 400, "MANIFEST_INVALID"},
		{"PATCH", "/v2/ok/blobs/uploads/does-not-exist", map[string]string{"Content-Range": "0-0"}, strings.NewReader("x"), 404, "BLOB_UPLOAD_UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path[:min(len(tt.path), 40)], func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL()+tt.path, tt.body)
			req.Header.Set("Authorization", "Bearer "+bearer)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || tt.code != "" && !strings.Contains(string(body), fmt.Sprintf("%q", tt.code)) {
				t.Fatalf("= %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
		})
	}

	// An upload chunk out of order gets 416 from a live upload.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+"/v2/ok/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequestWithContext(t.Context(), "PATCH", srv.URL()+resp.Header.Get("Location"), strings.NewReader("abc"))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Range", "10-12")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("out-of-order PATCH = %d, want 416", resp.StatusCode)
	}
}
