package tokencache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestExclLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "host.lock")
	a, err := newExclLock(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newExclLock(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.tryLock(); !ok || err != nil {
		t.Fatalf("a.tryLock() = %v, %v, want true", ok, err)
	}
	if ok, err := b.tryLock(); ok || err != nil {
		t.Fatalf("b.tryLock() while a holds = %v, %v, want false", ok, err)
	}
	if err := b.unlock(); err != nil {
		t.Fatalf("b.unlock() without holding = %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("b.unlock() removed a's lock: %v", err)
	}
	if err := a.unlock(); err != nil {
		t.Fatalf("a.unlock() = %v", err)
	}
	if ok, err := b.tryLock(); !ok || err != nil {
		t.Fatalf("b.tryLock() after release = %v, %v, want true", ok, err)
	}

	// A lock left by a dead holder is taken over once stale.
	stale, err := newExclLock(filepath.Join(t.TempDir(), "stale.lock"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale.path, []byte("12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := stale.tryLock(); ok {
		t.Fatal("tryLock() on a fresh foreign lock = true, want false")
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(stale.path, old, old); err != nil {
		t.Fatal(err)
	}
	if ok, _ := stale.tryLock(); ok {
		t.Fatal("tryLock() removing a stale lock = true, want false (retry takes it)")
	}
	if ok, err := stale.tryLock(); !ok || err != nil {
		t.Fatalf("tryLock() after stale removal = %v, %v, want true", ok, err)
	}
}
