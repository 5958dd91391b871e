package gc

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store"
)

// TestRunDuringPushes pushes images and indexes through the real registry
// handler while gc runs over and over with no grace period at all. Pushes
// may fail with the errors that tell a client to push again, never
// otherwise; afterwards every tag resolves to a manifest whose blobs and
// children all exist, with the right bytes.
func TestRunDuringPushes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			meta := b.open(t)
			blobs := newBlobs(t)
			h, err := registry.New(registry.WithBlobStore(blobs), registry.WithMetadata(meta))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")

			const writers, pushes = 4, 12
			base := static.NewLayer([]byte("a base layer every image shares"), types.OCILayer)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				retried int
				failed  []error
			)
			stop := make(chan struct{})
			gcDone := make(chan struct{})
			runs := 0
			go func() {
				defer close(gcDone)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := Run(t.Context(), meta, blobs, WithGrace(0)); err != nil {
						mu.Lock()
						failed = append(failed, fmt.Errorf("gc: %w", err))
						mu.Unlock()
						return
					}
					runs++
					// Room for pushes: with no grace at all, a run that
					// starts between a push's blobs and its manifest
					// sends the push round again, and back-to-back runs
					// would starve it.
					time.Sleep(10 * time.Millisecond)
				}
			}()
			for w := range writers {
				wg.Go(func() {
					repo := fmt.Sprintf("%s/team%d", host, w%2) // two writers per repository
					for i := range pushes {
						push := func() error { return pushOne(t, repo, w, i, base) }
						for attempt := 0; ; attempt++ {
							err := push()
							if err == nil {
								break
							}
							if !pushAgain(err) || attempt == 100 {
								mu.Lock()
								failed = append(failed, fmt.Errorf("writer %d push %d: %w", w, i, err))
								mu.Unlock()
								return
							}
							mu.Lock()
							retried++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			close(stop)
			<-gcDone
			if len(failed) > 0 {
				t.Fatalf("failures:\n%v", errors.Join(failed...))
			}
			t.Logf("%d gc runs, %d pushes retried", runs, retried)

			// One more run, then everything tagged must be whole.
			if _, err := Run(t.Context(), meta, blobs, WithGrace(0)); err != nil {
				t.Fatalf("final Run = %v", err)
			}
			checked := 0
			for _, repo := range []string{"team0", "team1"} {
				tags, err := meta.Tags(t.Context(), repo, "", 1000)
				if err != nil {
					t.Fatalf("Tags(%s) = %v", repo, err)
				}
				for _, tag := range tags {
					d, err := meta.ResolveTag(t.Context(), repo, tag)
					if err != nil {
						t.Fatalf("ResolveTag(%s:%s) = %v", repo, tag, err)
					}
					checked += checkWhole(t, meta, blobs, repo, d)
				}
			}
			if checked == 0 {
				t.Fatalf("no blob checked")
			}
		})
	}
}

// pushOne pushes a new image under tag w<w>, and every third push an index
// of two images under idx<w>: the previous ones become garbage.
func pushOne(t *testing.T, repo string, w, i int, base v1.Layer) error {
	img := func(k int) (v1.Image, error) {
		unique := static.NewLayer(fmt.Appendf(nil, "layer of writer %d push %d image %d", w, i, k), types.OCILayer)
		return mutate.AppendLayers(empty.Image, base, unique)
	}
	opts := []remote.Option{remote.WithContext(t.Context()),
		remote.WithRetryBackoff(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 3})}
	one, err := img(0)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(fmt.Sprintf("%s:w%d", repo, w))
	if err != nil {
		return err
	}
	if err := remote.Write(ref, one, opts...); err != nil {
		return err
	}
	if i%3 != 0 {
		return nil
	}
	two, err := img(1)
	if err != nil {
		return err
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: one}, mutate.IndexAddendum{Add: two})
	ref, err = name.ParseReference(fmt.Sprintf("%s:idx%d", repo, w))
	if err != nil {
		return err
	}
	return remote.WriteIndex(ref, idx, opts...)
}

// pushAgain reports whether err is one a client answers by pushing again:
// a 503 (a blob being collected), a manifest whose blob was collected
// after the upload, or an upload session a retried 503 used up.
func pushAgain(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusServiceUnavailable {
		return true
	}
	for _, e := range te.Errors {
		switch e.Code {
		case transport.ManifestBlobUnknownErrorCode, transport.BlobUploadUnknownErrorCode, transport.UnavailableErrorCode:
			return true
		}
	}
	return false
}

// checkWhole fails t unless manifest d of repo and everything it
// references exist, with bytes that match their digests. It returns the
// number of blobs checked.
func checkWhole(t *testing.T, meta store.Store, blobs *fs.Store, repo string, d digest.Digest) int {
	t.Helper()
	ctx := t.Context()
	m, err := meta.GetManifest(ctx, repo, d)
	if err != nil {
		t.Errorf("GetManifest(%s@%s) = %v", repo, d, err)
		return 0
	}
	n := 0
	for _, b := range m.Blobs {
		if _, err := meta.BlobSize(ctx, repo, b); err != nil {
			t.Errorf("%s@%s: blob %s not linked: %v", repo, d, b, err)
		}
		rc, err := blobs.Open(ctx, b, 0, -1)
		if err != nil {
			t.Errorf("%s@%s: blob %s: %v", repo, d, b, err)
			continue
		}
		v := b.Verifier()
		_, err = io.Copy(v, rc)
		rc.Close()
		if err != nil || !v.Verified() {
			t.Errorf("%s@%s: blob %s has the wrong bytes (%v)", repo, d, b, err)
		}
		n++
	}
	for _, c := range m.Children {
		n += checkWhole(t, meta, blobs, repo, c)
	}
	return n
}
