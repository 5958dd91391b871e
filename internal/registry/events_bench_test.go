package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// BenchmarkGetManifestEvents is a manifest GET by tag served in process,
// without events and with every pull recorded: the cost events add to the
// pull path, flushing included.
func BenchmarkGetManifestEvents(b *testing.B) {
	for _, withEvents := range []bool{false, true} {
		b.Run(fmt.Sprint("events=", withEvents), func(b *testing.B) {
			dir := b.TempDir()
			blobs, err := fs.New(filepath.Join(dir, "blobs"))
			if err != nil {
				b.Fatal(err)
			}
			meta, err := sqlite.Open(b.Context(), filepath.Join(dir, "registry.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer meta.Close()
			opts := []registry.Option{registry.WithBlobStore(blobs), registry.WithMetadata(meta)}
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan struct{})
			var rec *events.Recorder
			if withEvents {
				rec = events.NewRecorder(meta, "https://registry.test")
				go func() { rec.Run(ctx); close(done) }()
				opts = append(opts, registry.WithEvents(rec))
			} else {
				close(done)
			}
			h, err := registry.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			layer := "layer"
			ld := digest.FromString(layer)
			put := httptest.NewRequest("POST", "/v2/acme/app/blobs/uploads/?digest="+ld.String(), strings.NewReader(layer))
			h.ServeHTTP(httptest.NewRecorder(), put)
			m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}`, ld, len(layer))
			req := httptest.NewRequest("PUT", "/v2/acme/app/manifests/v1", strings.NewReader(m))
			req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 201 {
				b.Fatalf("push = %d %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", "/v2/acme/app/manifests/v1", nil)
					r.Header.Set("User-Agent", "containerd/2.0")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Errorf("GET = %d", w.Code)
					}
				}
			})
			stop()
			<-done // the flush is part of the cost
			if rec != nil {
				// Events the recorder could not keep up with are dropped,
				// which would flatter the figure.
				b.ReportMetric(float64(rec.Dropped())/float64(b.N), "dropped/op")
			}
		})
	}
}
