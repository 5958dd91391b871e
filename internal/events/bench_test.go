package events_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
)

// BenchmarkRecordPulls is the cost of a pull event: Record on the request
// path, then the batched write Run does.
func BenchmarkRecordPulls(b *testing.B) {
	st := openStoreTB(b)
	rec := events.NewRecorder(st, "https://registry.test", events.WithBatching(10*time.Millisecond, 256, 1<<20), events.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()
	d := events.Data{Repository: "acme/app", Tag: "v1", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		MediaType: "application/vnd.oci.image.manifest.v1+json", Type: events.KindManifest, Method: "GET",
		RemoteAddr: "192.0.2.10", UserAgent: "containerd/2.0.0", Actor: events.Actor{Identities: []string{"ci"}, Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/app:ref:refs/heads/main"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.When = time.Now()
		rec.Record(events.TypePull, d)
	}
	cancel()
	<-done
	b.StopTimer()
	if rec.Dropped() != 0 {
		b.Fatalf("%d dropped", rec.Dropped())
	}
}
