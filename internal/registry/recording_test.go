package registry_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// recording is a registry's stores in a temporary directory with a
// recorder running over the metadata, as `registry serve` has them.
type recording struct {
	blobs *fs.Store
	meta  *sqlite.Store
	rec   *events.Recorder
	stop  func() // ends the recorder and waits for its last write; idempotent
}

func newRecording(tb testing.TB, opts ...events.Option) *recording {
	tb.Helper()
	dir := tb.TempDir()
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	meta, err := sqlite.Open(tb.Context(), filepath.Join(dir, "registry.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { meta.Close() })
	rec := events.NewRecorder(meta, "https://registry.test", opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	tb.Cleanup(stop) // before meta.Close: cleanups run last first
	return &recording{blobs: blobs, meta: meta, rec: rec, stop: stop}
}
