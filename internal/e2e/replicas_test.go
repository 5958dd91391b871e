package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// replicas are two `registry serve` processes on one PostgreSQL schema and
// one bucket, behind one external URL (as behind a load balancer): clients
// may reach either for any request.
type replicas struct {
	a, b    *server
	backend *s3Backend
	service string // the registries' service name, the tokens' audience
	auth    authn.Authenticator
}

func startReplicas(t *testing.T) *replicas {
	t.Helper()
	return startReplicasWith(t, "")
}

// startReplicasWith is startReplicas with more top-level YAML in both
// replicas' configuration.
func startReplicasWith(t *testing.T, config string) *replicas {
	t.Helper()
	b := newS3Backend(t)
	ci := newCIIssuer(t)
	// Both name one external URL, as replicas behind a load balancer do:
	// tokens, realm and issuer are the same whichever replica answers. It
	// says localhost, not 127.0.0.1, because clients refuse a token realm
	// at another private IP address than the registry's.
	addrA := freeAddr(t)
	external := "http://localhost:" + addrA[strings.LastIndex(addrA, ":")+1:]
	a := b.serveOpts(t, serverOptions{ci: ci, addr: addrA, args: []string{"--external-url", external}, config: config})
	bb := b.serveOpts(t, serverOptions{ci: ci, args: []string{"--external-url", external}, config: config})
	service := strings.TrimPrefix(external, "http://")
	return &replicas{a: a, b: bb, backend: b, service: service,
		auth: &authn.Basic{Username: "e2e", Password: ci.token(t, "e2e", service)}}
}

// TestReplicas: an upload started on A is finished on B; an image pushed
// through A is pulled from B; and concurrent pushes of the same blob and
// of the same tag through both end consistent: one object per blob, and a
// tag that always names a fully committed manifest.
func TestReplicas(t *testing.T) {
	r := startReplicas(t)

	t.Run("upload moves between replicas", func(t *testing.T) {
		tok := r.token(t, "replica/upload", "pull,push")
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: parts on both sides
		third := len(data) / 3
		do := func(srv *server, method, path string, body []byte, hdr map[string]string) *http.Response {
			t.Helper()
			req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		resp := do(r.a, http.MethodPost, "/v2/replica/upload/blobs/uploads/", nil, nil)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST on A = %d", resp.StatusCode)
		}
		loc := resp.Header.Get("Location")
		for i, srv := range []*server{r.a, r.b, r.a} {
			from, to := i*third, (i+1)*third
			if i == 2 {
				to = len(data)
			}
			resp := do(srv, http.MethodPatch, loc, data[from:to], map[string]string{
				"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("%d-%d", from, to-1)})
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("PATCH %d on replica %d = %d", i, i%2, resp.StatusCode)
			}
			loc = resp.Header.Get("Location")
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		d := v1.Hash{Algorithm: "sha256", Hex: sha256Hex(data)}
		if resp := do(r.b, http.MethodPut, loc+sep+"digest="+d.String(), nil, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT on B = %d", resp.StatusCode)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, r.a.URL()+"/v2/replica/upload/blobs/"+d.String(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req) // follows the redirect to the bucket
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
			t.Fatalf("GET on A of the blob finished on B = %d, %d bytes", resp.StatusCode, len(got))
		}
	})

	t.Run("push on A, pull from B", func(t *testing.T) {
		img, err := random.Image(3<<20, 3)
		if err != nil {
			t.Fatal(err)
		}
		r.push(t, r.a, "replica/app:v1", img)
		got := r.pull(t, r.b, "replica/app:v1")
		want, _ := img.Digest()
		if d, _ := got.Digest(); d != want {
			t.Fatalf("B serves %s, A was given %s", d, want)
		}
		if err := validateImage(got); err != nil {
			t.Fatalf("image pulled from B: %v", err)
		}
	})

	t.Run("concurrent pushes of one blob and one tag", func(t *testing.T) {
		shared, err := random.Layer(6<<20, "application/vnd.oci.image.layer.v1.tar")
		if err != nil {
			t.Fatal(err)
		}
		const rounds = 4
		var seen atomic.Int32 // whole images read while pushes were running
		for round := range rounds {
			var wg sync.WaitGroup
			digests := make([]v1.Hash, 2)
			for i, srv := range []*server{r.a, r.b} {
				own, err := random.Layer(1<<20, "application/vnd.oci.image.layer.v1.tar")
				if err != nil {
					t.Fatal(err)
				}
				img, err := mutate.AppendLayers(mustRandomImage(t), shared, own)
				if err != nil {
					t.Fatal(err)
				}
				digests[i], _ = img.Digest()
				wg.Go(func() { r.push(t, srv, "replica/race:latest", img) })
			}
			// While both push, the tag only ever names a whole image.
			done := make(chan struct{})
			var reads sync.WaitGroup
			reads.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if img, err := r.tryPull(t, r.a, "replica/race:latest"); err == nil {
						if err := validateImage(img); err != nil {
							t.Errorf("round %d: the tag named an incomplete image: %v", round, err)
							return
						}
						seen.Add(1)
					}
				}
			})
			wg.Wait()
			close(done)
			reads.Wait()
			for _, srv := range []*server{r.a, r.b} {
				img := r.pull(t, srv, "replica/race:latest")
				d, _ := img.Digest()
				if d != digests[0] && d != digests[1] {
					t.Fatalf("round %d: the tag names %s, neither push", round, d)
				}
				if err := validateImage(img); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		t.Logf("%d whole images read through the tag while pushes ran", seen.Load())
		// One object per blob in the bucket, however many pushes.
		sharedDigest, _ := shared.Digest()
		out, err := r.backend.client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{
			Bucket: &r.backend.bucket, Prefix: ptr("registry/blobs/sha256/" + sharedDigest.Hex[:2] + "/" + sharedDigest.Hex)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 1 {
			t.Fatalf("the shared layer is stored as %d objects, want 1", len(out.Contents))
		}
	})
}

func ptr[T any](v T) *T { return &v }

func mustRandomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func (r *replicas) ref(t *testing.T, srv *server, ref string) name.Reference {
	t.Helper()
	n, err := name.ParseReference(srv.Addr+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *replicas) push(t *testing.T, srv *server, ref string, img v1.Image) {
	t.Helper()
	if err := remote.Write(r.ref(t, srv, ref), img, remote.WithAuth(r.auth), remote.WithContext(t.Context())); err != nil {
		t.Errorf("push %s to %s: %v", ref, srv.Addr, err)
	}
}

func (r *replicas) tryPull(t *testing.T, srv *server, ref string) (v1.Image, error) {
	return remote.Image(r.ref(t, srv, ref), remote.WithAuth(r.auth), remote.WithContext(t.Context()))
}

func (r *replicas) pull(t *testing.T, srv *server, ref string) v1.Image {
	t.Helper()
	img, err := r.tryPull(t, srv, ref)
	if err != nil {
		t.Fatalf("pull %s from %s: %v", ref, srv.Addr, err)
	}
	return img
}

// token gets an access token for repo from the replicas' token endpoint.
func (r *replicas) token(t *testing.T, repo, actions string) string {
	t.Helper()
	return tokenFor(t, r.a, r.service, r.auth.(*authn.Basic).Password, "repository:"+repo+":"+actions)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// validateImage reads every blob of img and checks it against its digest.
func validateImage(img v1.Image) error { return validate.Image(img) }
