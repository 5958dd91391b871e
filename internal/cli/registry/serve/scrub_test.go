package serve

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/metrics"
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
		{Blobs: 1, Bytes: 10}, // the next pass
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
