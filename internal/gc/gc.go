// Package gc is online garbage collection for the registry: it removes
// manifests that are neither tagged nor referenced, blob links that no
// manifest needs, and the bytes of blobs no repository links, while
// registries keep serving pushes.
//
// Safety rests on two things. A grace period: nothing created, linked or
// referenced by a push after the cutoff (the start of the run minus the
// grace) is touched, so a push in progress keeps what it uploaded. And the
// store's protocol (store.Collector): every removal decides and deletes in
// one transaction serialized against the pushes that could make it wrong,
// and blob bytes are deleted under a tombstone that makes LinkBlob fail,
// so no manifest ever comes to reference a missing blob.
//
// The package never prints; it reports progress through a callback.
package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/store"
)

// DefaultGrace is the grace period when none is given: longer than any
// push takes between its first blob upload and its manifest.
const DefaultGrace = 24 * time.Hour

// pageSize is how many candidates are read per query: memory stays bounded
// whatever the registry's size.
const pageSize = 500

// Metadata is what Run needs of the metadata store.
type Metadata interface {
	store.Collector
	BlobReferenced(ctx context.Context, dgst digest.Digest) (bool, error)
}

// Blobs is what Run needs of the blob store.
type Blobs interface {
	storage.Walker
	Delete(ctx context.Context, dgst digest.Digest) error
}

// Phase names a step of a run, in the order they run.
type Phase string

// The phases.
const (
	PhaseManifests Phase = "manifests"
	PhaseBlobLinks Phase = "blob links"
	PhaseBlobs     Phase = "blobs"
)

// Progress is reported after every item a phase examines.
type Progress struct {
	Phase Phase
	// Pass counts the passes over manifests (from 1): removing an index
	// makes its children collectable in the next pass.
	Pass int
	// Examined and Removed count items in this phase so far (in a dry run,
	// Removed counts what would be removed); Bytes is the size of those
	// removed.
	Examined, Removed int
	Bytes             int64
}

// Report is what a run removed (or, in a dry run, would remove).
type Report struct {
	DryRun bool
	// Cutoff is the start of the run minus the grace period: only what is
	// older was considered.
	Cutoff    time.Time
	Manifests int
	// ManifestBytes is the size of the removed manifests.
	ManifestBytes int64
	BlobLinks     int
	Blobs         int
	// BlobBytes is the size of the blobs whose bytes were deleted.
	BlobBytes int64
	Duration  time.Duration
}

// Option configures Run.
type Option func(*options)

type options struct {
	grace    time.Duration
	dryRun   bool
	progress func(Progress)
	log      *slog.Logger
	now      func() time.Time
}

// WithGrace sets the grace period (default DefaultGrace). It must not be
// negative; zero is for tests, where nothing pushes concurrently for long.
func WithGrace(d time.Duration) Option { return func(o *options) { o.grace = d } }

// WithDryRun makes Run change nothing and report what it would remove.
// The report is a lower bound: removing manifests frees their blobs, which
// a dry run cannot see.
func WithDryRun(on bool) Option { return func(o *options) { o.dryRun = on } }

// WithProgress sets a function called after every item examined, from the
// goroutine that called Run.
func WithProgress(f func(Progress)) Option { return func(o *options) { o.progress = f } }

// WithLogger sets the logger for items skipped on error.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// withNow replaces the clock, for tests.
func withNow(f func() time.Time) Option { return func(o *options) { o.now = f } }

// Run collects garbage once: manifests (in passes, until one removes
// nothing), then blob links, then blob bytes. It stops at the first error
// and returns what it did until then.
func Run(ctx context.Context, meta Metadata, blobs Blobs, opts ...Option) (*Report, error) {
	o := options{grace: DefaultGrace, progress: func(Progress) {}, log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.grace < 0 {
		return nil, fmt.Errorf("gc: negative grace period %s", o.grace)
	}
	start := o.now()
	r := &run{opts: o, meta: meta, blobs: blobs,
		report: &Report{DryRun: o.dryRun, Cutoff: start.Add(-o.grace)}}
	err := r.manifests(ctx)
	if err == nil {
		err = r.blobLinks(ctx)
	}
	if err == nil {
		err = r.blobBytes(ctx)
	}
	r.report.Duration = o.now().Sub(start)
	return r.report, err
}

type run struct {
	opts   options
	meta   Metadata
	blobs  Blobs
	report *Report
}

// eachCandidate pages through a candidate list, calling fn for each.
func eachCandidate(ctx context.Context, list func(context.Context, time.Time, store.Candidate, int) ([]store.Candidate, error),
	cutoff time.Time, fn func(store.Candidate) error) error {
	var after store.Candidate
	for {
		page, err := list(ctx, cutoff, after, pageSize)
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1]
	}
}

func (r *run) manifests(ctx context.Context) error {
	for pass := 1; ; pass++ {
		p := Progress{Phase: PhaseManifests, Pass: pass}
		err := eachCandidate(ctx, r.meta.ManifestCandidates, r.report.Cutoff, func(c store.Candidate) error {
			p.Examined++
			removed := r.opts.dryRun
			if !removed {
				var err error
				if removed, err = r.meta.CollectManifest(ctx, c.Repository, c.Digest, r.report.Cutoff); err != nil {
					return err
				}
			}
			if removed {
				p.Removed++
				p.Bytes += c.Size
			}
			r.opts.progress(p)
			return nil
		})
		r.report.Manifests += p.Removed
		r.report.ManifestBytes += p.Bytes
		if err != nil {
			return fmt.Errorf("collect manifests: %w", err)
		}
		if r.opts.dryRun || p.Removed == 0 {
			return nil
		}
	}
}

func (r *run) blobLinks(ctx context.Context) error {
	p := Progress{Phase: PhaseBlobLinks, Pass: 1}
	err := eachCandidate(ctx, r.meta.BlobLinkCandidates, r.report.Cutoff, func(c store.Candidate) error {
		p.Examined++
		removed := r.opts.dryRun
		if !removed {
			var err error
			if removed, err = r.meta.CollectBlobLink(ctx, c.Repository, c.Digest, r.report.Cutoff); err != nil {
				return err
			}
		}
		if removed {
			p.Removed++
		}
		r.opts.progress(p)
		return nil
	})
	r.report.BlobLinks = p.Removed
	if err != nil {
		return fmt.Errorf("collect blob links: %w", err)
	}
	return nil
}

func (r *run) blobBytes(ctx context.Context) error {
	p := Progress{Phase: PhaseBlobs, Pass: 1}
	err := r.blobs.WalkBlobs(ctx, func(d digest.Digest, size int64, modified time.Time) error {
		p.Examined++
		defer func() { r.opts.progress(p) }()
		if !modified.Before(r.report.Cutoff) {
			return nil
		}
		removed, err := r.collectBlob(ctx, d)
		if err != nil {
			return err
		}
		if removed {
			p.Removed++
			p.Bytes += size
		}
		return nil
	})
	r.report.Blobs = p.Removed
	r.report.BlobBytes = p.Bytes
	if err != nil {
		return fmt.Errorf("collect blobs: %w", err)
	}
	return nil
}

// collectBlob deletes the bytes of d if no repository links it: under a
// tombstone, so that no push can link it meanwhile.
func (r *run) collectBlob(ctx context.Context, d digest.Digest) (bool, error) {
	linked, err := r.meta.BlobReferenced(ctx, d)
	if err != nil || linked {
		return false, err
	}
	if r.opts.dryRun {
		return true, nil
	}
	ok, err := r.meta.TombstoneBlob(ctx, d)
	if err != nil || !ok {
		return false, err
	}
	err = r.blobs.Delete(ctx, d)
	if errors.Is(err, storage.ErrNotFound) {
		err = nil // deleted by someone else
	}
	// The tombstone goes even when ctx ended: a stale one would refuse the
	// digest's pushes for store.TombstoneTTL.
	if rerr := r.meta.RemoveTombstone(context.WithoutCancel(ctx), d); rerr != nil {
		r.opts.log.ErrorContext(ctx, "remove blob tombstone", "digest", d, "err", rerr)
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return false, fmt.Errorf("delete blob %s: %w", d, err)
	}
	return true, nil
}
