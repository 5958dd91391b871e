package storagetest

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

// testWalkBlobs runs only for stores that implement storage.Walker: it
// sees committed blobs (not uploads in progress) with their sizes and
// recent modification times, and stops at fn's first error.
func testWalkBlobs(t *testing.T, s storage.Store) {
	w, ok := s.(storage.Walker)
	if !ok {
		t.Skip("the store does not implement storage.Walker")
	}
	ctx := t.Context()
	start := time.Now().Add(-time.Minute)
	want := map[digest.Digest]int64{
		mustPut(t, s, digest.SHA256, []byte("one")):       3,
		mustPut(t, s, digest.SHA512, []byte("twenty")):    6,
		mustPut(t, s, digest.SHA256, []byte("")):          0,
		mustPut(t, s, digest.SHA256, []byte("to delete")): 9,
	}
	gone := digest.SHA256.FromBytes([]byte("to delete"))
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	delete(want, gone)
	if err := s.StartUpload(ctx, "walk-upload"); err != nil {
		t.Fatalf("StartUpload = %v", err)
	}

	got := map[digest.Digest]int64{}
	err := w.WalkBlobs(ctx, func(d digest.Digest, size int64, modified time.Time) error {
		if modified.Before(start) || modified.After(time.Now().Add(time.Minute)) {
			t.Errorf("WalkBlobs: %s modified %v, want about now", d, modified)
		}
		got[d] = size
		return nil
	})
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("WalkBlobs = %v, %v, want %v, nil", got, err, want)
	}

	stop := errors.New("stop")
	calls := 0
	err = w.WalkBlobs(ctx, func(digest.Digest, int64, time.Time) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("WalkBlobs with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}
}
