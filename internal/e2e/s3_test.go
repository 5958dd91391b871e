package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/keywrap"
	"github.com/chainctl/chainctl/internal/storage/s3/s3test"
	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
)

// s3Backend is a bucket on a real S3 server (versitygw) behind a proxy that
// enforces Cloudflare R2's multipart rules, and a PostgreSQL schema: the
// configuration of stateless replicas.
type s3Backend struct {
	storage  string   // --storage URL
	database string   // --database URL
	env      []string // the bucket's credentials, as AWS_* variables
	proxy    *s3test.R2Proxy
	client   *s3.Client // to look into the bucket
	bucket   string
}

func newS3Backend(t *testing.T) *s3Backend {
	t.Helper()
	// 5 MiB parts, R2's smallest, so that modest blobs go multipart.
	return newS3BackendParts(t, "5MiB")
}

// newS3BackendParts is newS3Backend with parts of partSize ("": the
// store's default).
func newS3BackendParts(t *testing.T, partSize string) *s3Backend {
	t.Helper()
	gw := s3test.Start(t)
	bucket := gw.NewBucket(t)
	proxy := s3test.NewR2Proxy(t, gw.Endpoint)
	partParam := ""
	if partSize != "" {
		partParam = "&part_size=" + partSize
	}
	t.Cleanup(func() {
		if v := proxy.Violations(); len(v) > 0 {
			t.Errorf("R2 would have refused: %q", v)
		}
	})
	kek, err := keywrap.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &s3Backend{
		storage:  "s3://" + bucket + "/registry?endpoint=" + url.QueryEscape(proxy.URL) + "&region=auto&path_style=true" + partParam,
		database: pgtest.Schema(t),
		env: []string{
			"AWS_ACCESS_KEY_ID=" + gw.AccessKey, "AWS_SECRET_ACCESS_KEY=" + gw.SecretKey,
			"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
			// Replicas on one database share the keys that seal its signing keys.
			"CHAINCTL_KEY_ENCRYPTION_KEY=" + kek,
		},
		proxy:  proxy,
		client: gw.Client(),
		bucket: bucket,
	}
}

// serve starts a registry on the backend, with its own CI issuer.
func (b *s3Backend) serve(t *testing.T, args ...string) *server {
	t.Helper()
	return b.serveOpts(t, serverOptions{args: args})
}

// serveOpts starts a registry on the backend with o.
func (b *s3Backend) serveOpts(t *testing.T, o serverOptions) *server {
	t.Helper()
	o.args = append([]string{"--storage", b.storage, "--database", b.database}, o.args...)
	o.env = append(o.env, b.env...)
	return startServerOpts(t, o)
}

// responseBytes is the registry's count of response body bytes so far.
func responseBytes(t *testing.T, srv *server) float64 {
	t.Helper()
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "chainctl_http_response_bytes_total{") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			n += v
		}
	}
	return n
}

// TestS3PresignedDownloads pushes an image to a registry on S3 + PostgreSQL
// and pulls it with crane through the credential helper: blob GETs are
// answered with a 307 to a presigned URL of the bucket, so less than 1% of
// the image's bytes pass through the registry. The URL works without
// credentials and stops working after --presign-ttl.
func TestS3PresignedDownloads(t *testing.T) {
	crane := requireTool(t, "crane")
	b := newS3Backend(t)
	const ttl = 3 * time.Second
	srv := b.serve(t, "--presign-ttl", ttl.String())
	ctx, cancel := contextWithTimeout(t, 5*time.Minute)
	defer cancel()
	h := newHelperEnv(t, "CHAINCTL_IDENTITY_TOKEN="+srv.Token(t))
	h.must(ctx, "", chainctlBin, "config", "set", "registry", srv.Addr)
	h.must(ctx, "", chainctlBin, "auth", "configure-docker", "--registry", srv.Addr)

	// A 24 MiB layer of random bytes: several 5 MiB parts.
	layer := make([]byte, 24<<20)
	if _, err := rand.Read(layer); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(t.TempDir(), "layer.tar")
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: "blob", Mode: 0o644, Size: int64(len(layer))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(layer); err != nil || tw.Close() != nil {
		t.Fatal("write the layer tarball")
	}
	if err := os.WriteFile(tarPath, tb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := srv.Addr + "/team/big:v1"
	h.must(ctx, "", crane, "append", "-f", tarPath, "-t", ref)

	before := responseBytes(t, srv)
	out := filepath.Join(t.TempDir(), "pulled.tar")
	h.must(ctx, "", crane, "pull", "--format", "tarball", ref, out)
	through := responseBytes(t, srv) - before
	fi, err := os.Stat(out)
	if err != nil || fi.Size() < int64(len(layer)) {
		t.Fatalf("pulled image: %v, %d bytes", err, fi.Size())
	}
	if frac := through / float64(len(layer)); frac >= 0.01 {
		t.Fatalf("the pull moved %.0f bytes through the registry, %.2f%% of the %d-byte layer; want < 1%%", through, 100*frac, len(layer))
	}
	t.Logf("pull of a %d MiB image moved %.0f bytes (%.4f%%) through the registry", len(layer)>>20, through, 100*through/float64(len(layer)))

	// The redirect itself: a 307 to a presigned URL that works without
	// credentials, until it expires.
	var m struct{ Layers []struct{ Digest string } }
	if err := json.Unmarshal([]byte(h.must(ctx, "", crane, "manifest", ref)), &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	tok := strings.TrimSpace(h.must(ctx, "", chainctlBin, "auth", "token", "--scope", "repository:team/big:pull"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/v2/team/big/blobs/"+m.Layers[0].Digest, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, b.proxy.URL+"/") || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("blob GET = %d, Location %q; want 307 to a presigned URL of the bucket", resp.StatusCode, loc)
	}
	issued := time.Now()
	got := httpGetBody(t, loc)
	if got.status != http.StatusOK || digest.FromBytes(got.body) != digest.Digest(m.Layers[0].Digest) {
		t.Fatalf("presigned URL = %d, %d bytes; want 200 and the layer", got.status, len(got.body))
	}
	time.Sleep(time.Until(issued.Add(ttl + 2*time.Second)))
	if got := httpGetBody(t, loc); got.status != http.StatusForbidden {
		t.Fatalf("presigned URL after its %s = %d, want 403", ttl, got.status)
	}
	// A ranged GET is streamed by the registry, not redirected.
	req.Header.Set("Range", "bytes=0-99")
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || len(part) != 100 {
		t.Fatalf("ranged GET = %d, %d bytes; want 206 with 100 bytes", resp.StatusCode, len(part))
	}
}

type bodyResult struct {
	status int
	body   []byte
}

func httpGetBody(t *testing.T, u string) bodyResult {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return bodyResult{resp.StatusCode, b}
}
