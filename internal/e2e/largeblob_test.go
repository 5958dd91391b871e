package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	s3store "github.com/chainctl/chainctl/internal/storage/s3"
)

// largeBlobSize is the blob TestS3LargeUpload streams: large enough that a
// server holding it in memory would show, small enough for CI. Set
// CHAINCTL_TEST_LARGE_BLOB_MIB (5120 for the 5 GiB) to change it.
func largeBlobSize(t *testing.T) int64 {
	t.Helper()
	mib := int64(2048)
	if v := os.Getenv("CHAINCTL_TEST_LARGE_BLOB_MIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("CHAINCTL_TEST_LARGE_BLOB_MIB=%q: want a positive number", v)
		}
		mib = n
	}
	return mib << 20
}

// pattern is an endless, cheap, incompressible-enough byte stream: each
// 8-byte word is the next value of a 64-bit LCG.
type pattern struct {
	x   uint64
	buf [8]byte
	off int
}

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		if p.off == 0 {
			p.x = p.x*6364136223846793005 + 1442695040888963407
			binary.LittleEndian.PutUint64(p.buf[:], p.x)
		}
		b[i] = p.buf[p.off]
		p.off = (p.off + 1) % 8
	}
	return len(b), nil
}

// TestS3LargeUpload streams a multi-GiB blob to a registry on S3 (with R2's
// multipart rules) + PostgreSQL as a chunked upload whose chunks have odd
// sizes, then commits it: the server's peak RSS stays under
// largeUploadRSS, because chunks are re-cut into fixed parts on the way
// through and never held whole. The blob is then read back and its digest
// checked.
// largeUploadRSS bounds the server's peak RSS in TestS3LargeUpload: 100 MiB
// with one part in memory, and the other parts in flight (s3.PartsInFlight
// of the default size) twice over, for the garbage collector's headroom.
const largeUploadRSS = 100<<20 + 2*(s3store.PartsInFlight-1)*s3store.DefaultPartSize

func TestS3LargeUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("streams gigabytes")
	}
	size := largeBlobSize(t)
	b := newS3BackendParts(t, "") // the default part size, as users run it
	srv := b.serve(t, "--blob-redirect", "proxy")
	tok := accessToken(t, srv, "repository:big/blob:pull,push")
	ctx, cancel := contextWithTimeout(t, 20*time.Minute)
	defer cancel()

	do := func(method, url string, body io.Reader, length int64, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, url, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+tok)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := do(http.MethodPost, srv.URL()+"/v2/big/blob/blobs/uploads/", nil, 0, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")

	// Chunks of 97 MiB, 13 MiB + 1 and 211 MiB, in turn: none a multiple
	// of the part size.
	sizes := []int64{97 << 20, 13<<20 + 1, 211 << 20}
	src := &pattern{x: 42}
	h := sha256.New()
	start := time.Now()
	for off, i := int64(0), 0; off < size; i++ {
		n := min(sizes[i%len(sizes)], size-off)
		body := io.TeeReader(io.LimitReader(src, n), h)
		resp := do(http.MethodPatch, srv.URL()+loc, body, n, map[string]string{
			"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("%d-%d", off, off+n-1)})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("PATCH at %d = %d", off, resp.StatusCode)
		}
		loc, off = resp.Header.Get("Location"), off+n
	}
	dgst := "sha256:" + hex.EncodeToString(h.Sum(nil))
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	resp = do(http.MethodPut, srv.URL()+loc+sep+"digest="+dgst, nil, 0, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT = %d; registry log:\n%s", resp.StatusCode, tail(srv.out.String(), 3000))
	}
	elapsed := time.Since(start)
	peak := peakRSS(t, srv)
	t.Logf("pushed %d MiB in %s (%.0f MiB/s); server peak RSS %d MiB", size>>20, elapsed.Round(time.Second),
		float64(size>>20)/elapsed.Seconds(), peak>>20)
	if peak >= largeUploadRSS {
		t.Errorf("server peak RSS %d MiB while a %d MiB blob uploaded; want < %d MiB", peak>>20, size>>20, largeUploadRSS>>20)
	}

	// Read it back (streamed, verified by the registry as it goes).
	resp = do(http.MethodGet, srv.URL()+"/v2/big/blob/blobs/"+dgst, nil, 0, nil)
	defer resp.Body.Close()
	rh := sha256.New()
	n, err := io.Copy(rh, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || n != size || "sha256:"+hex.EncodeToString(rh.Sum(nil)) != dgst {
		t.Fatalf("GET = %d, %d bytes, %v; want %d bytes of %s", resp.StatusCode, n, err, size, dgst)
	}
}

// peakRSS is the server process's peak resident set (VmHWM).
func peakRSS(t *testing.T, srv *server) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
