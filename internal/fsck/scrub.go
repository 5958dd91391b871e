package fsck

import (
	"context"
	"log/slog"
	"time"
)

// Scrub checks b's blobs over and over while ctx lasts, as `registry
// serve` does on file storage: a pass (Check, with opts: a rate, so that
// the pulls keep the disk), then a wait until every has passed since the
// pass began. Each pass is logged; a pass that fails is logged and the next
// one begins at its time.
func Scrub(ctx context.Context, b Blobs, every time.Duration, log *slog.Logger, opts ...Option) {
	opts = append(opts, WithLogger(log))
	for {
		start := time.Now()
		rep, err := Check(ctx, b, opts...)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.WarnContext(ctx, "blob scrub pass failed", "err", err, "blobs", rep.Blobs, "corrupt", len(rep.Corrupt))
		default:
			log.InfoContext(ctx, "blob scrub pass", "blobs", rep.Blobs, "bytes", rep.Bytes, "corrupt", len(rep.Corrupt),
				"duration", rep.Duration.Round(time.Millisecond).String())
		}
		if sleepUntil(ctx, start.Add(every)) != nil {
			return
		}
	}
}
