package tokencache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T, opts ...Option) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "chainctl", "tokens"), opts...)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	return c
}

// sameEntry compares entries with time.Time.Equal, as a JSON round trip
// drops the monotonic clock reading.
func sameEntry(a, b Entry) bool {
	return a.Kind == b.Kind && a.Token == b.Token && a.Identity == b.Identity && a.Username == b.Username &&
		a.Expiry.Equal(b.Expiry) && a.Issued.Equal(b.Issued)
}

func TestPutGetDelete(t *testing.T) {
	t.Parallel()
	c := openTest(t)
	host := "127.0.0.1:5000"
	if _, err := c.Get(host); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%s) on empty cache = %v, want ErrNotFound", host, err)
	}
	want := Entry{
		Kind: KindSession, Token: "tok", Identity: "id-1", Username: "_token",
		Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Issued: time.Date(2029, 12, 31, 23, 0, 0, 0, time.UTC),
	}
	if err := c.Put(host, want); err != nil {
		t.Fatalf("Put(%s) = %v", host, err)
	}
	got, err := c.Get(host)
	if err != nil || got != want {
		t.Fatalf("Get(%s) = %v, %v, want %v", host, got, err, want)
	}
	if got, err := c.Get("127.0.0.1:5001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(other port) = %v, %v, want ErrNotFound", got, err)
	}
	stored := Entry{Kind: KindStored, Token: "pull-token", Username: "robot"}
	if err := c.Put(host, stored); err != nil {
		t.Fatalf("Put(%s) replace = %v", host, err)
	}
	if got, err := c.Get(host); err != nil || got != stored {
		t.Fatalf("Get(%s) after replace = %v, %v, want %v", host, got, err, stored)
	}
	if err := c.Delete(host); err != nil {
		t.Fatalf("Delete(%s) = %v", host, err)
	}
	if _, err := c.Get(host); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%s) after Delete = %v, want ErrNotFound", host, err)
	}
	if err := c.Delete(host); err != nil {
		t.Fatalf("Delete(%s) again = %v, want nil", host, err)
	}
}

func TestPutRejectsBadEntries(t *testing.T) {
	t.Parallel()
	c := openTest(t)
	for _, e := range []Entry{
		{Kind: KindSession, Token: "t"},
		{Kind: KindStored},
		{Kind: "bogus", Token: "t"},
	} {
		if err := c.Put("example.com", e); err == nil {
			t.Errorf("Put(%v) = nil, want error", e)
		}
	}
}

func TestGetCorrupt(t *testing.T) {
	t.Parallel()
	c := openTest(t)
	if err := os.WriteFile(filepath.Join(c.Dir(), "example.com.json"), []byte(`{"kind":"session","token":"abc`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := c.Get("example.com")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get(corrupt) = %v, want ErrCorrupt", err)
	}
	if strings.Contains(err.Error(), "abc") {
		t.Errorf("Get(corrupt) error %q quotes the file", err)
	}
	// GetOrRefresh treats corruption as a miss and repairs it.
	fresh := Entry{Kind: KindSession, Token: "new", Expiry: time.Now().Add(time.Hour)}
	got, err := c.GetOrRefresh(t.Context(), "example.com", 0, func(context.Context) (Entry, error) { return fresh, nil })
	if err != nil || !sameEntry(got, fresh) {
		t.Fatalf("GetOrRefresh(corrupt) = %v, %v, want %v", got, err, fresh)
	}
	if got, err := c.Get("example.com"); err != nil || !sameEntry(got, fresh) {
		t.Fatalf("Get after repair = %v, %v, want %v", got, err, fresh)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	c := openTest(t)
	hosts := []string{"registry.example.com", "127.0.0.1:5000", "[::1]:5000", "con", "my_host:80"}
	for _, h := range hosts {
		if err := c.Put(h, Entry{Kind: KindStored, Token: "t"}); err != nil {
			t.Fatalf("Put(%s) = %v", h, err)
		}
		if err := c.WithLock(t.Context(), h, func() error { return nil }); err != nil {
			t.Fatalf("WithLock(%s) = %v", h, err)
		}
	}
	for _, junk := range []string{"notes.txt", ".tmp-123", "UPPER.json", "bad_zz.json", "a_2fb.json"} {
		if err := os.WriteFile(filepath.Join(c.Dir(), junk), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(c.Dir(), "dir.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := c.List()
	want := slices.Sorted(slices.Values(hosts))
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("List() = %q, %v, want %q", got, err, want)
	}
}

// TestAtomicReplace has writers replace one entry with large tokens while
// readers read it: a reader must always see one complete entry.
func TestAtomicReplace(t *testing.T) {
	t.Parallel()
	c := openTest(t)
	const host = "registry.example.com"
	const size = 256 << 10
	if err := c.Put(host, Entry{Kind: KindStored, Token: strings.Repeat("a", size)}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var writers, readers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			tok := strings.Repeat(string(rune('b'+w)), size)
			for range 50 {
				if err := c.Put(host, Entry{Kind: KindStored, Token: tok}); err != nil {
					t.Errorf("Put() = %v", err)
					return
				}
			}
		})
	}
	var reads sync.Map
	for r := range 4 {
		readers.Go(func() {
			n := 0
			for {
				select {
				case <-stop:
					reads.Store(r, n)
					return
				default:
				}
				e, err := c.Get(host)
				if err != nil {
					t.Errorf("Get() during writes = %v", err)
					return
				}
				if len(e.Token) != size || strings.Count(e.Token, e.Token[:1]) != size {
					t.Errorf("Get() during writes: token of %d bytes, mixed content", len(e.Token))
					return
				}
				n++
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	des, err := os.ReadDir(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tempPrefix) {
			t.Errorf("temp file %s left behind", de.Name())
		}
	}
}

func TestDefaultDir(t *testing.T) {
	base, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache dir: %v", err)
	}
	got, err := DefaultDir()
	if want := filepath.Join(base, "chainctl", "tokens"); err != nil || got != want {
		t.Errorf("DefaultDir() = %q, %v, want %q", got, err, want)
	}
}

// TestStoredSlot: a host's session and its stored credential live side
// by side; each view reads, lists and deletes its own, and both share the
// host's lock.
func TestStoredSlot(t *testing.T) {
	t.Parallel()
	c := openTest(t, WithLockPolling(time.Millisecond, 5*time.Millisecond))
	s := c.Stored()
	const host = "registry.example.com"
	sess := Entry{Kind: KindSession, Token: "session-token", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	pull := Entry{Kind: KindStored, Token: "ccpt_secret", Username: "pt-aaaaaaaaaaaaaaaaaaaa"}
	if err := c.Put(host, sess); err != nil {
		t.Fatalf("Put(session) = %v", err)
	}
	if err := s.Put(host, pull); err != nil {
		t.Fatalf("Stored().Put(pull token) = %v", err)
	}
	if got, err := c.Get(host); err != nil || !sameEntry(got, sess) {
		t.Errorf("Get() = %v, %v, want the session", got, err)
	}
	if got, err := s.Get(host); err != nil || !sameEntry(got, pull) {
		t.Errorf("Stored().Get() = %v, %v, want the pull token", got, err)
	}
	for _, name := range []string{"registry.example.com.json", "registry.example.com.stored"} {
		if _, err := os.Stat(filepath.Join(c.Dir(), name)); err != nil {
			t.Errorf("entry file %s: %v", name, err)
		}
	}
	if err := s.Put("other.example", Entry{Kind: KindStored, Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.List(); err != nil || !slices.Equal(got, []string{host}) {
		t.Errorf("List() = %q, %v, want only the session's host", got, err)
	}
	if got, err := s.List(); err != nil || !slices.Equal(got, []string{"other.example", host}) {
		t.Errorf("Stored().List() = %q, %v, want both stored hosts", got, err)
	}
	if err := s.Put(host, sess); err == nil {
		t.Errorf("Stored().Put(session) = nil, want an error: sessions belong in the session slot")
	}
	if s.Stored().suffix != storedSuffix || s.Dir() != c.Dir() {
		t.Errorf("Stored().Stored() is not the stored slot of the same directory")
	}

	// One lock per host, whichever slot takes it.
	release := holdLock(t, c, host)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	err := s.WithLock(ctx, host, func() error { return nil })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stored().WithLock() while the session slot holds the lock = %v, want a timeout", err)
	}
	release()

	if err := s.Delete(host); err != nil {
		t.Fatalf("Stored().Delete() = %v", err)
	}
	if _, err := s.Get(host); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stored().Get() after Delete = %v, want ErrNotFound", err)
	}
	if got, err := c.Get(host); err != nil || !sameEntry(got, sess) {
		t.Errorf("Get() after Stored().Delete() = %v, %v, want the session untouched", got, err)
	}
	if err := c.Delete("other.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("other.example"); err != nil {
		t.Errorf("Stored().Get() after deleting the session slot = %v, want the stored entry untouched", err)
	}
}
