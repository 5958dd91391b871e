package serve

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/metrics"
	"github.com/chainctl/chainctl/internal/storage/fs"
)

// TestScrubMetrics: counters add up what each pass did, across passes whose
// reports start again from zero.
func TestScrubMetrics(t *testing.T) {
	reg := metrics.NewRegistry()
	m := newScrubMetrics(reg)
	bad := fsck.Corrupt{Digest: "sha256:bad", Quarantined: "/srv/blobs/quarantine/x"}
	for _, r := range []fsck.Report{
		{Blobs: 1, Bytes: 10},
		{Blobs: 2, Bytes: 30, Corrupt: []fsck.Corrupt{bad}},
		{Blobs: 3, Bytes: 35, Corrupt: []fsck.Corrupt{bad}},
		{Blobs: 1, Bytes: 10},                                                  // the next pass
		{Blobs: 2, Bytes: 20, Corrupt: []fsck.Corrupt{{Digest: "sha256:dry"}}}, // not quarantined
	} {
		m.observe(r)
	}
	var b bytes.Buffer
	if _, err := reg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chainctl_blob_scrub_blobs_total 5\n", "chainctl_blob_scrub_bytes_total 55\n", "chainctl_blobs_quarantined_total 1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

// TestBlobCheckAfterACrash: after a crash of the machine, the blobs are
// unchecked until one pass has checked them all, which quarantines a
// damaged one; a clean stop leaves nothing to check at the next start.
func TestBlobCheckAfterACrash(t *testing.T) {
	root := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	st, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	good, bad := digest.FromString("good"), digest.FromString("bad!")
	for d, c := range map[digest.Digest]string{good: "good", bad: "bad!"} {
		if _, err := st.Put(t.Context(), d, strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}
	// The machine went down while a registry served: the marker names
	// another boot, and a blob lost its bytes.
	if err := os.WriteFile(filepath.Join(root, "serving"), []byte("another-boot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "blobs", "sha256", bad.Encoded()[:2], bad.Encoded()), []byte("\x00\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := newBlobCheck(st, log)
	if err != nil || c == nil {
		t.Fatalf("newBlobCheck = %v, %v", c, err)
	}
	if c.checked.Load() {
		t.Fatal("checked right after a crash of the machine")
	}
	reg := metrics.NewRegistry()
	c.run(t.Context(), log, config.Blobs{}, newScrubMetrics(reg)) // no scrub: the check after the crash alone
	if !c.checked.Load() {
		t.Fatal("not checked after the pass")
	}
	if _, err := st.Stat(t.Context(), bad); err == nil {
		t.Error("the damaged blob is still served")
	}
	var b bytes.Buffer
	if _, err := reg.WriteTo(&b); err != nil || !strings.Contains(b.String(), "chainctl_blobs_quarantined_total 1\n") {
		t.Errorf("metrics = %s, %v: want one blob quarantined", b.String(), err)
	}
	c.close(log)
	c, err = newBlobCheck(st, log)
	if err != nil || !c.checked.Load() {
		t.Errorf("after a clean stop: checked %v, %v; want checked", c.checked.Load(), err)
	}
}
