package registry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// uploadFixture is a registry whose principals are named by X-Test-As
// (denyRepos), on a fake clock, with its metadata store at hand.
type uploadFixture struct {
	url   string
	meta  *sqlite.Store
	blobs *fs.Store
	clock *fakeclock.Clock
}

func newUploadFixture(t *testing.T, caps store.UploadCaps) *uploadFixture {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := sqlite.Open(t.Context(), filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	f := &uploadFixture{meta: meta, blobs: blobs, clock: fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	h, err := registry.New(registry.WithBlobStore(blobs), registry.WithMetadata(meta), registry.WithAuthorizer(&denyRepos{}),
		registry.WithUploadCaps(caps), registry.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// as runs c as the principal who (anonymous when "").
func as(who string, c call) call {
	if who != "" {
		h := map[string]string{"X-Test-As": who}
		for k, v := range c.header {
			h[k] = v
		}
		c.header = h
	}
	return c
}

func TestUploadBelongsToItsPrincipal(t *testing.T) {
	f := newUploadFixture(t, store.UploadCaps{})
	loc := as("alice", call{method: "POST", path: "/v2/team/app/blobs/uploads/", status: 202}).run(t, f.url).Header.Get("Location")
	as("alice", call{method: "PATCH", path: loc, body: "abc", status: 202}).run(t, f.url)
	for _, who := range []string{"bob", ""} {
		for _, c := range []call{
			{method: "GET", path: loc},
			{method: "PATCH", path: loc, body: "def"},
			{method: "PUT", path: loc + "?digest=" + sha("abc")},
			{method: "DELETE", path: loc},
		} {
			c.status, c.code = 404, "BLOB_UPLOAD_UNKNOWN"
			as(who, c).run(t, f.url)
		}
	}
	// Nothing anyone else did touched it: alice finishes her blob.
	as("alice", call{method: "GET", path: loc, status: 204, want: map[string]string{"Range": "0-2"}}).run(t, f.url)
	as("alice", call{method: "PUT", path: loc + "?digest=" + sha("abc"), status: 201}).run(t, f.url)
}

func TestUploadCaps(t *testing.T) {
	f := newUploadFixture(t, store.UploadCaps{PerOwner: 2, PerRepository: 3})
	start := func(who, repo string, status int) *http.Response {
		t.Helper()
		c := call{method: "POST", path: "/v2/" + repo + "/blobs/uploads/", status: status}
		if status == 429 {
			c.code, c.want = "TOOMANYREQUESTS", map[string]string{"Retry-After": "30"}
		}
		return as(who, c).run(t, f.url)
	}
	first := start("alice", "team/app", 202).Header.Get("Location")
	start("alice", "team/other", 202)
	start("alice", "team/third", 429) // alice's cap, in any repository
	start("bob", "team/app", 202)
	start("carol", "team/app", 202)
	start("dave", "team/app", 429) // team/app's cap
	// A finished upload frees its place.
	as("alice", call{method: "PUT", path: first + "?digest=" + sha("x"), body: "x", status: 201}).run(t, f.url)
	start("alice", "team/third", 202)
	// Monolithic pushes and mounts open no session and are not capped.
	as("alice", call{method: "POST", path: "/v2/team/app/blobs/uploads/?digest=" + sha("y"), body: "y", status: 201}).run(t, f.url)
}

// TestUploadActivity: uploads expire by their last activity. A chunk
// written records it, and so does a long chunk while it streams.
func TestUploadActivity(t *testing.T) {
	f := newUploadFixture(t, store.UploadCaps{})
	t0 := f.clock.Now()
	loc := as("alice", call{method: "POST", path: "/v2/team/app/blobs/uploads/", status: 202}).run(t, f.url).Header.Get("Location")
	id := loc[strings.LastIndex(loc, "/")+1:]
	updated := func() time.Time {
		t.Helper()
		u, err := f.meta.GetUpload(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Updated
	}
	if got := updated(); !got.Equal(t0) {
		t.Fatalf("a new upload's activity = %v, want its start %v", got, t0)
	}
	f.clock.Advance(30 * time.Second)
	as("alice", call{method: "PATCH", path: loc, body: "a", status: 202}).run(t, f.url)
	if got := updated(); !got.Equal(t0) {
		t.Errorf("activity after a chunk 30s later = %v, want it unrecorded (at most one write a minute)", got)
	}
	f.clock.Advance(2 * time.Hour)
	as("alice", call{method: "PATCH", path: loc, body: "b", status: 202}).run(t, f.url)
	if got := updated(); !got.Equal(t0.Add(2*time.Hour + 30*time.Second)) {
		t.Errorf("activity after a chunk 2h later = %v, want that time", got)
	}

	// One chunk streaming for three hours of the fake clock.
	streamStart := f.clock.Now()
	body := &clockReader{clock: f.clock, step: 10 * time.Minute, n: 18}
	req, _ := http.NewRequestWithContext(t.Context(), "PATCH", f.url+loc, body)
	req.Header.Set("X-Test-As", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("long PATCH = %d", resp.StatusCode)
	}
	if got := updated(); got.Sub(streamStart) < 2*time.Hour+50*time.Minute {
		t.Errorf("activity after a 3h chunk started at %v = %v, want recorded as it streamed", streamStart, got)
	}
	n, err := registry.PurgeUploads(t.Context(), f.blobs, f.meta, streamStart.Add(time.Hour))
	if err != nil || n != 0 {
		t.Errorf("PurgeUploads of uploads idle since an hour into the chunk = %d, %v, want nothing purged", n, err)
	}
}

// clockReader yields n bytes, one per read, moving the clock by step
// before each.
type clockReader struct {
	clock *fakeclock.Clock
	step  time.Duration
	n     int
}

func (r *clockReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	r.n--
	r.clock.Advance(r.step)
	p[0] = 'x'
	return 1, nil
}
