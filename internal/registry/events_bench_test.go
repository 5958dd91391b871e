package registry_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/registry"
)

// BenchmarkGetManifestEvents is a manifest GET by tag served in process,
// without events and with every pull recorded: the cost events add to the
// pull path, flushing included.
func BenchmarkGetManifestEvents(b *testing.B) {
	for _, withEvents := range []bool{false, true} {
		b.Run(fmt.Sprint("events=", withEvents), func(b *testing.B) {
			r := newRecording(b) // idle unless the registry records to it
			opts := []registry.Option{registry.WithBlobStore(r.blobs), registry.WithMetadata(r.meta)}
			if withEvents {
				opts = append(opts, registry.WithEvents(r.rec))
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
			r.stop() // the flush is part of the cost
			if withEvents {
				// Events the recorder could not keep up with are dropped,
				// which would flatter the figure.
				b.ReportMetric(float64(r.rec.Dropped())/float64(b.N), "dropped/op")
			}
		})
	}
}
