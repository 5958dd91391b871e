// Package fsck checks stored blobs against their digests. Bytes are
// verified when they are committed; the filesystem store then serves them
// as they are, with sendfile, rather than hashing every byte it sends. What
// keeps corrupt bytes (a failing disk, a hand in the directory) from being
// served as a blob is this check: it reads every blob again, hashes it, and
// sets aside (quarantines) one that no longer matches, so that it is
// answered as missing until it is pushed again.
package fsck

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

// Blobs is what checking needs of a blob store.
type Blobs interface {
	storage.Walker
	storage.Quarantiner
	Open(ctx context.Context, dgst digest.Digest, offset, length int64) (io.ReadCloser, error)
}

// Report is what a check found.
type Report struct {
	DryRun bool
	// Blobs and Bytes count the blobs read whole.
	Blobs int
	Bytes int64
	// Vanished counts blobs deleted (registry gc) between the walk
	// finding them and the check reading them.
	Vanished int
	// Corrupt lists the blobs whose bytes do not hash to their digest.
	Corrupt  []Corrupt
	Duration time.Duration
}

// Corrupt is a blob whose bytes do not hash to its digest.
type Corrupt struct {
	Digest digest.Digest
	Size   int64
	// Got is what the bytes hash to.
	Got digest.Digest
	// Quarantined is where the bytes were set aside; empty in a dry run.
	Quarantined string
}

// Option configures Check.
type Option func(*checker)

// WithRate limits reading to bytesPerSecond (0: as fast as the disk), so
// that a check beside a serving registry leaves it the disk.
func WithRate(bytesPerSecond int64) Option { return func(c *checker) { c.rate = bytesPerSecond } }

// WithDryRun reports corrupt blobs without quarantining them.
func WithDryRun(on bool) Option { return func(c *checker) { c.dryRun = on } }

// WithLogger logs each corrupt blob (at error level) and each quarantine.
func WithLogger(l *slog.Logger) Option { return func(c *checker) { c.log = l } }

// WithProgress calls f with the report so far after each blob.
func WithProgress(f func(Report)) Option { return func(c *checker) { c.progress = f } }

type checker struct {
	b        Blobs
	rate     int64
	dryRun   bool
	log      *slog.Logger
	progress func(Report)
	buf      []byte
	start    time.Time
	read     int64 // bytes read, for the rate limit
}

// Check reads every blob b holds, hashes it, and quarantines those whose
// bytes do not match their digest (unless a dry run). It stops at the
// first error other than a blob vanishing, returning the report so far.
func Check(ctx context.Context, b Blobs, opts ...Option) (*Report, error) {
	c := &checker{b: b, log: slog.New(slog.DiscardHandler), buf: make([]byte, 256<<10), start: time.Now()}
	for _, o := range opts {
		o(c)
	}
	rep := &Report{DryRun: c.dryRun}
	err := b.WalkBlobs(ctx, func(dgst digest.Digest, size int64, _ time.Time) error {
		if err := c.check(ctx, rep, dgst, size); err != nil {
			return err
		}
		if c.progress != nil {
			c.progress(*rep)
		}
		return nil
	})
	rep.Duration = time.Since(c.start)
	if err != nil {
		return rep, fmt.Errorf("check blobs: %w", err)
	}
	return rep, nil
}

// check reads one blob whole and acts on what it hashes to.
func (c *checker) check(ctx context.Context, rep *Report, dgst digest.Digest, size int64) error {
	if !dgst.Algorithm().Available() {
		return fmt.Errorf("check %s: hash unavailable", dgst)
	}
	rc, err := c.b.Open(ctx, dgst, 0, -1)
	if errors.Is(err, storage.ErrNotFound) {
		rep.Vanished++
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", dgst, err)
	}
	h := dgst.Algorithm().Hash()
	n, err := c.hash(ctx, h, rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", dgst, err)
	}
	rep.Blobs++
	rep.Bytes += n
	got := digest.NewDigest(dgst.Algorithm(), h)
	if got == dgst {
		return nil
	}
	bad := Corrupt{Digest: dgst, Size: n, Got: got}
	c.log.ErrorContext(ctx, "stored blob does not match its digest", "digest", dgst, "hashes_to", got, "size", n)
	if !c.dryRun {
		where, err := c.b.Quarantine(ctx, dgst)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			rep.Corrupt = append(rep.Corrupt, bad)
			return fmt.Errorf("quarantine %s: %w", dgst, err)
		}
		bad.Quarantined = where
		c.log.WarnContext(ctx, "blob quarantined: answered as missing until pushed again", "digest", dgst, "bytes_at", where)
	}
	rep.Corrupt = append(rep.Corrupt, bad)
	return nil
}

// hash reads r into h, keeping to the rate limit.
func (c *checker) hash(ctx context.Context, h hash.Hash, r io.Reader) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(c.buf)
		if k > 0 {
			h.Write(c.buf[:k])
			n += int64(k)
			c.read += int64(k)
			if err := c.pace(ctx); err != nil {
				return n, err
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// pace sleeps until the bytes read so far are within the rate.
func (c *checker) pace(ctx context.Context) error {
	if c.rate <= 0 {
		return nil
	}
	return sleepUntil(ctx, c.start.Add(time.Duration(float64(c.read)/float64(c.rate)*float64(time.Second))))
}

// sleepUntil waits until t, or returns ctx's error when it ends first.
func sleepUntil(ctx context.Context, t time.Time) error {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
