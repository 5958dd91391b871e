package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// testConcurrentPutManifest pushes from many goroutines at once, as
// concurrent clients do, while others read. No call may fail (for SQLite:
// no SQLITE_BUSY surfaces), and moving one tag must be atomic: the
// previous digests returned, plus the tag's final digest, are "" and every
// pushed digest exactly once.
func testConcurrentPutManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	const (
		writers = 8
		puts    = 16
		repo    = "busy"
	)
	var (
		mu       sync.Mutex
		errs     []error
		previous = map[digest.Digest]int{}
		pushed   []digest.Digest
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ResolveTag(ctx, repo, "latest"); err != nil && !errors.Is(err, store.ErrNotFound) {
					fail(fmt.Errorf("reader %d: ResolveTag: %w", r, err))
					return
				}
				if _, err := s.Tags(ctx, repo, "", 100); err != nil && !errors.Is(err, store.ErrNotFound) {
					fail(fmt.Errorf("reader %d: Tags: %w", r, err))
					return
				}
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			for i := range puts {
				layer := digest.FromString(fmt.Sprintf("layer %d/%d", w, i))
				if err := s.LinkBlob(ctx, repo, layer, int64(i)); err != nil {
					fail(fmt.Errorf("writer %d: LinkBlob: %w", w, err))
					return
				}
				m := newManifest(repo, fmt.Sprintf("%d/%d", w, i), manifestOpts{blobs: []digest.Digest{layer}})
				prev, err := s.PutManifest(ctx, m, "latest")
				if err != nil {
					fail(fmt.Errorf("writer %d: PutManifest: %w", w, err))
					return
				}
				if _, err := s.PutManifest(ctx, m, fmt.Sprintf("w%d", w)); err != nil {
					fail(fmt.Errorf("writer %d: PutManifest: %w", w, err))
					return
				}
				// Another repository at the same time.
				if err := s.LinkBlob(ctx, fmt.Sprintf("side/%d", w), layer, int64(i)); err != nil {
					fail(fmt.Errorf("writer %d: LinkBlob: %w", w, err))
					return
				}
				if _, err := s.PutManifest(ctx, inRepo(m, fmt.Sprintf("side/%d", w)), "latest"); err != nil {
					fail(fmt.Errorf("writer %d: PutManifest: %w", w, err))
					return
				}
				mu.Lock()
				previous[prev]++
				pushed = append(pushed, m.Digest)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent calls failed:\n%v", err)
	}

	final, err := s.ResolveTag(ctx, repo, "latest")
	if err != nil {
		t.Fatalf("ResolveTag(latest) = %v", err)
	}
	previous[final]++
	if previous[""] != 1 {
		t.Errorf("%d PutManifest calls saw no previous digest, want 1", previous[""])
	}
	for _, d := range pushed {
		if previous[d] != 1 {
			t.Errorf("digest %s was the previous or final digest %d times, want 1", d, previous[d])
		}
		if _, err := s.GetManifest(ctx, repo, d); err != nil {
			t.Errorf("GetManifest(%s) = %v", d, err)
		}
	}
	tags, err := s.Tags(ctx, repo, "", 1000)
	if err != nil || len(tags) != writers+1 {
		t.Errorf("Tags(%s) = %d tags, %v, want %d, nil", repo, len(tags), err, writers+1)
	}
}
