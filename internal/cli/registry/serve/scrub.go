package serve

import (
	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/metrics"
)

// scrubMetrics count what the background blob scrub (fsck.Scrub) read and
// found, for /metrics: an alert on chainctl_blobs_quarantined_total is how
// an operator learns of a failing disk.
type scrubMetrics struct {
	blobs, bytes, quarantined *metrics.Counter
	last                      fsck.Report // the pass's report so far
}

func newScrubMetrics(reg *metrics.Registry) *scrubMetrics {
	return &scrubMetrics{
		blobs:       reg.NewCounterVec("chainctl_blob_scrub_blobs_total", "Stored blobs re-read and hashed by the background scrub.").With(),
		bytes:       reg.NewCounterVec("chainctl_blob_scrub_bytes_total", "Bytes of stored blobs re-read and hashed by the background scrub.").With(),
		quarantined: reg.NewCounterVec("chainctl_blobs_quarantined_total", "Stored blobs that no longer matched their digest, set aside and answered as missing.").With(),
	}
}

// observe is the scrub's progress callback: it adds what the pass did since
// the last call. A pass's counts start again from zero.
func (m *scrubMetrics) observe(r fsck.Report) {
	if r.Blobs < m.last.Blobs || r.Bytes < m.last.Bytes || len(r.Corrupt) < len(m.last.Corrupt) {
		m.last = fsck.Report{} // a new pass
	}
	m.blobs.Add(float64(r.Blobs - m.last.Blobs))
	m.bytes.Add(float64(r.Bytes - m.last.Bytes))
	for _, c := range r.Corrupt[len(m.last.Corrupt):] {
		if c.Quarantined != "" {
			m.quarantined.Inc()
		}
	}
	m.last = r
	m.last.Corrupt = append([]fsck.Corrupt(nil), r.Corrupt...)
}
