package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
)

// pushBudget is the most requests to S3, and round trips to PostgreSQL, a
// small image (a config and three 64 KiB layers, each POST then PUT, and
// its manifest) may cost a registry on S3 + PostgreSQL. Each is latency a
// sequential push waits for; docs/performance.md says where they go. An
// image costs 61 round trips; the budget leaves 3 for the server's
// background queries, which the test takes off only approximately, and a
// statement more a blob (4) exceeds it.
var pushBudget = struct{ s3, pg int }{s3: 4, pg: 64}

// TestS3PushRoundTrips counts what pushing small images costs a registry
// on S3 + PostgreSQL in requests to the bucket and round trips to the
// database, and holds them to pushBudget.
func TestS3PushRoundTrips(t *testing.T) {
	b := newS3BackendParts(t, "")
	rt := pgtest.CountRoundTrips(t, b.database)
	b.database = rt.DSN
	srv := b.serve(t)
	const repo = "roundtrips/app"
	tok := accessToken(t, srv, "repository:"+repo+":pull,push")
	push := func(i int) {
		t.Helper()
		var layers []map[string]any
		for range 3 {
			layer := make([]byte, 64<<10)
			rand.Read(layer)
			layers = append(layers, pushWholeBlob(t, srv, tok, repo, layer, "application/vnd.oci.image.layer.v1.tar"))
		}
		cfg := pushWholeBlob(t, srv, tok, repo, []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","n":%d}`, i)), "application/vnd.oci.image.config.v1+json")
		m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/v%d", srv.URL(), repo, i), bytes.NewReader(m))
		req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		expect(t, req, tok, http.StatusCreated)
	}
	push(0) // the repository's first push creates it

	// Idle first, to see what the server asks of either on its own.
	s3Before, pgBefore := b.proxy.Requests(), rt.Count()
	time.Sleep(time.Second)
	idleS3, idlePG := total(b.proxy.Requests())-total(s3Before), rt.Count()-pgBefore

	const images = 5
	s3Before, pgBefore = b.proxy.Requests(), rt.Count()
	start := time.Now()
	for i := range images {
		push(i + 1)
	}
	took := time.Since(start)
	s3After, pgAfter := b.proxy.Requests(), rt.Count()
	ops := map[string]int{}
	for op, n := range s3After {
		if d := n - s3Before[op]; d > 0 {
			ops[op] = d
		}
	}
	var desc []string
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		desc = append(desc, fmt.Sprintf("%s %.1f", op, float64(ops[op])/images))
	}
	s3PerImage := float64(total(ops)) / images
	// The server's own background queries (subscription refreshes, the
	// event recorder) go on during the pushes: take off the idle rate,
	// so that a slow machine, on which the pushes take longer, does not
	// count more round trips a push.
	pgPerImage := (float64(pgAfter-pgBefore) - float64(idlePG)*took.Seconds()) / images
	t.Logf("per image: %.1f S3 requests (%s), %.1f PostgreSQL round trips (idle for 1s: %d and %d); %s an image",
		s3PerImage, strings.Join(desc, ", "), pgPerImage, idleS3, idlePG, took/images)
	if s3PerImage > float64(pushBudget.s3) {
		t.Errorf("%.1f S3 requests an image, budget %d", s3PerImage, pushBudget.s3)
	}
	if pgPerImage > float64(pushBudget.pg) {
		t.Errorf("%.1f PostgreSQL round trips an image, budget %d", pgPerImage, pushBudget.pg)
	}
}

// TestS3ChunkRoundTrips counts the S3 requests of a blob pushed in chunks
// of a part each, with Content-Range: the upload state is read once a
// chunk (by the write, which checks the offset), not also beforehand.
func TestS3ChunkRoundTrips(t *testing.T) {
	b := newS3BackendParts(t, "")
	srv := b.serve(t)
	const repo = "roundtrips/chunks"
	tok := accessToken(t, srv, "repository:"+repo+":pull,push")
	const chunk, chunks = 8 << 20, 3 // the default part size
	data := make([]byte, chunk*chunks)
	rand.Read(data)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/v2/"+repo+"/blobs/uploads/", nil)
	loc := expect(t, req, tok, http.StatusAccepted).Header.Get("Location")
	before := b.proxy.Requests()
	for i := range chunks {
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodPatch, srv.URL()+loc, bytes.NewReader(data[i*chunk:(i+1)*chunk]))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", i*chunk, (i+1)*chunk-1))
		loc = expect(t, req, tok, http.StatusAccepted).Header.Get("Location")
	}
	after := b.proxy.Requests()
	gets := after["GetObject"] - before["GetObject"]
	t.Logf("%d chunks: %v before, %v after", chunks, before, after)
	if gets > chunks {
		t.Errorf("%d chunks read the upload state %d times, want at most once a chunk", chunks, gets)
	}
	if parts := after["UploadPart"] - before["UploadPart"]; parts != chunks {
		t.Errorf("%d chunks of a part each sent %d parts", chunks, parts)
	}
	// Out of order: refused with the upload's real range.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPatch, srv.URL()+loc, bytes.NewReader([]byte("x")))
	req.Header.Set("Content-Range", "0-0")
	resp := expect(t, req, tok, http.StatusRequestedRangeNotSatisfiable)
	if got, want := resp.Header.Get("Range"), fmt.Sprintf("0-%d", len(data)-1); got != want {
		t.Errorf("416's Range = %q, want %q", got, want)
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// pushWholeBlob pushes data to repo as a POST then a PUT with the whole
// blob, as containerd and the benchmark do, and returns its descriptor.
func pushWholeBlob(t *testing.T, srv *server, tok, repo string, data []byte, mediaType string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/v2/"+repo+"/blobs/uploads/", nil)
	resp := expect(t, req, tok, http.StatusAccepted)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = srv.URL() + loc
	}
	dgst := digest.FromBytes(data)
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPut, loc+sep+"digest="+dgst.String(), bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	expect(t, req, tok, http.StatusCreated)
	return map[string]any{"mediaType": mediaType, "digest": dgst, "size": len(data)}
}

// expect sends req with the bearer tok and fails t unless it is answered
// with status.
func expect(t *testing.T, req *http.Request, tok string, status int) *http.Response {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d %s, want %d", req.Method, req.URL.Path, resp.StatusCode, body, status)
	}
	return resp
}
