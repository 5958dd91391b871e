package s3

import (
	"runtime"
	"testing"

	"github.com/chainctl/chainctl/internal/storage/storagetest"
	"github.com/opencontainers/go-digest"
)

// TestStreamingMemory checks that Put and WriteUpload stream: the bytes
// allocated while moving a blob many parts long stay near the parts in
// flight (PartsInFlight), not the blob's size. (Allocations, not timings: they do not depend on the
// machine's load.)
func TestStreamingMemory(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	const size = 96 << 20
	p := storagetest.Pattern{Seed: 6000}
	dgst := p.Digest(digest.SHA256, 0, size)

	// Warm the buffer pool and the client, as a running server would be.
	small := p.Digest(digest.SHA256, 0, 1)
	if _, err := s.Put(ctx, small, p.Reader(0, 1)); err != nil {
		t.Fatalf("Put(%s) = %v", small, err)
	}

	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		t.Logf("allocated %d KiB", (after.TotalAlloc-before.TotalAlloc)>>10)
		return after.TotalAlloc - before.TotalAlloc
	}
	// A buffer for each part in flight, one more being read, a pooled one
	// lost to GC, the SDK.
	const limit = (PartsInFlight + 3) * MinPartSize
	if n := allocated(func() {
		if _, err := s.Put(ctx, dgst, p.Reader(0, size)); err != nil {
			t.Fatalf("Put(%s) = %v", dgst, err)
		}
	}); n > limit {
		t.Errorf("Put of %d MiB allocated %d MiB, want at most %d MiB", size>>20, n>>20, limit>>20)
	}
	const id = "memory"
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v", id, err)
	}
	if n := allocated(func() {
		if _, err := s.WriteUpload(ctx, id, 0, p.Reader(0, size)); err != nil {
			t.Fatalf("WriteUpload(%s) = %v", id, err)
		}
	}); n > limit {
		t.Errorf("WriteUpload of %d MiB allocated %d MiB, want at most %d MiB", size>>20, n>>20, limit>>20)
	}
}
