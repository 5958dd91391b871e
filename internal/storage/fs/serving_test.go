package fs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chainctl/chainctl/internal/storage/fs"
)

// TestStartServing: blobs are unchecked only after a serving process
// stopped uncleanly and the machine booted since, and only without sync.
func TestStartServing(t *testing.T) {
	root := t.TempDir()
	start := func(opts ...fs.Option) bool {
		t.Helper()
		unchecked, err := newStore(t, root, opts...).StartServing()
		if err != nil {
			t.Fatalf("StartServing = %v", err)
		}
		return unchecked
	}
	marker := filepath.Join(root, "serving")
	if start() {
		t.Error("first start: unchecked")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no serving marker: %v", err)
	}
	if err := newStore(t, root).StopServing(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("marker after a clean stop: %v", err)
	}
	if start() {
		t.Error("start after a clean stop: unchecked")
	}
	if _, err := os.Stat("/proc/sys/kernel/random/boot_id"); err == nil && start() {
		t.Error("start after a process crash, same boot: unchecked")
	}
	// A crash of the machine: the marker names another boot.
	if err := os.WriteFile(marker, []byte("another-boot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if start(fs.WithSync(true)) {
		t.Error("start after a machine crash, blobs synced: unchecked")
	}
	if err := os.WriteFile(marker, []byte("another-boot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !start() {
		t.Error("start after a machine crash, blobs not synced: checked")
	}
}
