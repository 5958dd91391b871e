package serve

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/metrics"
	"github.com/chainctl/chainctl/internal/storage"
)

// scrubMetrics count what the background blob scrub (fsck.Scrub) read and
// found, for /metrics: an alert on chainctl_blobs_quarantined_total is how
// an operator learns of a failing disk.
type scrubMetrics struct {
	blobs, bytes, quarantined *metrics.Counter
	// The pass's figures at the last call.
	lastBlobs, lastCorrupt int
	lastBytes              int64
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
	if r.Blobs < m.lastBlobs || r.Bytes < m.lastBytes || len(r.Corrupt) < m.lastCorrupt {
		m.lastBlobs, m.lastBytes, m.lastCorrupt = 0, 0, 0 // a new pass
	}
	m.blobs.Add(float64(r.Blobs - m.lastBlobs))
	m.bytes.Add(float64(r.Bytes - m.lastBytes))
	for _, c := range r.Corrupt[m.lastCorrupt:] {
		if c.Quarantined != "" {
			m.quarantined.Inc()
		}
	}
	m.lastBlobs, m.lastBytes, m.lastCorrupt = r.Blobs, r.Bytes, len(r.Corrupt)
}

// servingMarker is a blob store that records which process serves from it
// and tells whether a crash may have left blobs unchecked (fs.Store).
type servingMarker interface {
	StartServing() (unchecked bool, err error)
	StopServing() error
}

// blobCheck is file storage's check at rest, as the server runs it.
type blobCheck struct {
	blobs fsck.Blobs
	// checked is false from a start after a crash of the machine that may
	// have left blobs unchecked until they have all been checked again:
	// meanwhile whole-blob GETs are hashed as they are sent.
	checked atomic.Bool
	stop    func() error
}

// newBlobCheck returns the check of st, or nil for storage that is not
// checked at rest (S3: hashed as it is streamed, redirected otherwise).
func newBlobCheck(st storage.Store, log *slog.Logger) (*blobCheck, error) {
	b, ok := st.(fsck.Blobs)
	if !ok {
		return nil, nil
	}
	c := &blobCheck{blobs: b}
	c.checked.Store(true)
	if m, ok := st.(servingMarker); ok {
		unchecked, err := m.StartServing()
		if err != nil {
			return nil, fmt.Errorf("blob storage: record that a server uses it: %w", err)
		}
		c.stop = m.StopServing
		if unchecked {
			c.checked.Store(false)
			log.Warn("the machine stopped while this registry served, and blobs are not synced (file storage without ?sync=true): " +
				"until every blob has been checked again, pulls are hashed as they are sent")
		}
	}
	return c, nil
}

// run checks every blob at once if a crash left them unchecked, then, at
// blobs.ScrubRate (0: never), in a pass every blobs.ScrubInterval at most,
// until ctx ends.
func (c *blobCheck) run(ctx context.Context, log *slog.Logger, blobs config.Blobs, m *scrubMetrics) {
	if !c.checked.Load() {
		rep, err := fsck.Check(ctx, c.blobs, fsck.WithLogger(log), fsck.WithProgress(m.observe))
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("blobs left unchecked by a crash: the check failed; pulls stay hashed until the next start", "err", err)
			}
		} else {
			c.checked.Store(true)
			log.Info("blobs left unchecked by a crash are checked; pulls are sent as stored again",
				"blobs", rep.Blobs, "corrupt", len(rep.Corrupt), "duration", rep.Duration.Round(time.Millisecond).String())
		}
	}
	if blobs.ScrubRate > 0 {
		fsck.Scrub(ctx, c.blobs, blobs.ScrubInterval, log, fsck.WithRate(blobs.ScrubRate), fsck.WithProgress(m.observe))
	}
}

// close records a clean stop.
func (c *blobCheck) close(log *slog.Logger) {
	if c.stop == nil {
		return
	}
	if err := c.stop(); err != nil {
		log.Warn("blob storage: record a clean stop", "err", err)
	}
}
