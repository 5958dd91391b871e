package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// config sizes the workloads. defaultConfig is what the issue specifies;
// quickConfig is a smoke run.
type config struct {
	blobSize, chunkSize int64 // workloads "mono" and "chunked"
	images, layers      int   // workload "small"
	layerSize           int64
	blobGetSize         int64         // workload "blob"
	tags                int           // workload "tags": tags in the repository
	concurrency         int           // workloads "get", "head", "blob" and "token"
	duration            time.Duration // workloads "get", "head", "blob" and "token", each phase
	tagsConcurrency     int
	tagsDuration        time.Duration
	maxSamples          int    // cap on requests per load phase, to bound memory
	events              int    // workload "evrate": manifests pushed in its burst
	eventPushers        int    // workload "evrate": pushes at once in the burst
	eventRate           int    // workload "evrate": pushes a second in its latency phase
	eventLog            int    // workload "evlist": events seeded in the log
	eventLogQueries     int    // workload "evlist": timed pages of each filter
	s3Server            string // chainctl-s3's S3 server, which the table names
}

func defaultConfig() config {
	return config{
		blobSize:        256 << 20,
		chunkSize:       8 << 20,
		images:          50,
		layers:          3,
		layerSize:       64 << 10,
		blobGetSize:     1 << 20,
		tags:            1000,
		concurrency:     32,
		duration:        10 * time.Second,
		tagsConcurrency: 8,
		tagsDuration:    5 * time.Second,
		maxSamples:      4 << 20,
		events:          2000,
		eventPushers:    8,
		eventRate:       50,
		eventLog:        1_000_000,
		eventLogQueries: 200,
		s3Server:        s3Versitygw,
	}
}

func quickConfig() config {
	c := defaultConfig()
	c.blobSize, c.chunkSize = 8<<20, 1<<20
	c.images, c.tags = 5, 50
	c.events = 200
	c.eventLog, c.eventLogQueries = 50_000, 50
	c.duration, c.tagsDuration = time.Second, time.Second
	return c
}

// Seeds make every blob deterministic and the same on both registries, and
// keep the workloads' blobs distinct so that none is deduplicated. The push
// workloads add roundSeed(round), so a later round pushes new content.
const (
	seedMono    = 1
	seedChunked = 2
	seedGet     = 3
	seedHead    = 4
	seedTags    = 5
	seedBlob    = 6
	seedEvRate  = 7
	seedSmall   = 1000 // + image index
	seedEvPush  = 3000 // + phase<<16 + image index
)

func roundSeed(round int) uint64 { return uint64(round) << 32 }

// outcome is what one workload measured against one registry.
type outcome struct {
	values map[string]float64 // by metric id
	cpu    float64            // client CPU, in cores, over the timed part; <0 if unknown
}

// workload is one benchmark phase. run sets up what it needs (untimed),
// then times the measured part. round counts from 0 for -rounds.
type workload struct {
	name  string
	about string
	run   func(ctx context.Context, c *client, cfg config, round int) (outcome, error)
	// direct, set instead of run, runs a workload that measures the
	// target's kind of store opened by the benchmark itself, not the
	// running registry (evlist).
	direct func(ctx context.Context, t *target, cfg config, round int) (outcome, error)
	// only, if set, lists the targets the workload runs against; nil
	// means all of them.
	only []string
}

func workloads() []workload {
	return []workload{
		{name: "mono", about: "push one large blob: POST, then one PUT with the body", run: runMono},
		{name: "chunked", about: "push one large blob: POST, PATCH per chunk, PUT", run: runChunked},
		{name: "small", about: "push small images one after another", run: runSmall},
		{name: "get", about: "concurrent manifest GETs by tag", run: runGet},
		{name: "ptget", about: "the same GETs with a pull token's access token (chainctl targets only)", run: runPullTokenGet, only: chainctlTargets},
		{name: "anon", about: "the same GETs without a token, of a public repository (chainctl only)", run: runAnon, only: []string{targetChainctl}},
		{name: "head", about: "concurrent manifest HEADs by digest", run: runHead},
		{name: "tags", about: "concurrent tags list of a large repository", run: runTags},
		{name: "blob", about: "concurrent blob GETs by digest: on chainctl-s3 the 307 answers alone, then pulls following them to the bucket; elsewhere streamed GETs", run: runBlob},
		{name: "token", about: "concurrent /token exchanges, with a session token, then with a pull token, for the same scope (chainctl targets only)", run: runToken, only: chainctlTargets},
		{name: "evget", about: "manifest GETs without, then with a subscription to their pull events (chainctl targets only)", run: runEventGet, only: chainctlTargets},
		{name: "evpush", about: "small-image pushes without, then with a subscription to their push events (chainctl targets only)", run: runEventPush, only: chainctlTargets},
		{name: "evrate", about: "push events delivered to a local sink: a burst's rate, and latency from the 201 at a steady pace (chainctl targets only)", run: runEventRate, only: chainctlTargets},
		{name: "evlist", about: "events list, first pages of five filters, over a seeded event log (-evlist-events) in the target's kind of store: SQLite on chainctl, PostgreSQL on chainctl-s3", direct: runEventList, only: chainctlTargets},
	}
}

// chainctlTargets are the targets of the workloads that Distribution and
// the in-memory registry have no counterpart for.
var chainctlTargets = []string{targetChainctl, targetChainctlS3}

// runsAgainst reports whether w runs against the named target.
func (w workload) runsAgainst(target string) bool {
	return w.only == nil || slices.Contains(w.only, target)
}

// timed runs f and returns its wall time and the client's CPU use over it
// in cores (user+system CPU time / wall time), or -1 if unknown.
func timed(f func() error) (time.Duration, float64, error) {
	c0, ok0 := cpuTime()
	t0 := time.Now()
	err := f()
	wall := time.Since(t0)
	c1, ok1 := cpuTime()
	cpu := -1.0
	if ok0 && ok1 && wall > 0 {
		cpu = (c1 - c0).Seconds() / wall.Seconds()
	}
	return wall, cpu, err
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func runMono(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	seed := seedMono + roundSeed(round)
	dgst, err := patternDigest(seed, cfg.blobSize)
	if err != nil {
		return outcome{}, err
	}
	if err := c.authorize(ctx, "bench/mono"); err != nil {
		return outcome{}, err
	}
	wall, cpu, err := timed(func() error {
		return c.pushBlob(ctx, "bench/mono", dgst, cfg.blobSize, newPattern(seed, cfg.blobSize))
	})
	if err != nil {
		return outcome{}, err
	}
	return outcome{values: map[string]float64{"mono": mib(cfg.blobSize) / wall.Seconds()}, cpu: cpu}, nil
}

func runChunked(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	seed := seedChunked + roundSeed(round)
	dgst, err := patternDigest(seed, cfg.blobSize)
	if err != nil {
		return outcome{}, err
	}
	if err := c.authorize(ctx, "bench/chunked"); err != nil {
		return outcome{}, err
	}
	wall, cpu, err := timed(func() error {
		return c.pushBlobChunked(ctx, "bench/chunked", dgst, cfg.blobSize, cfg.chunkSize, newPattern(seed, cfg.blobSize))
	})
	if err != nil {
		return outcome{}, err
	}
	return outcome{values: map[string]float64{"chunked": mib(cfg.blobSize) / wall.Seconds()}, cpu: cpu}, nil
}

func runSmall(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	images, err := smallImages(seedSmall+roundSeed(round), cfg)
	if err != nil {
		return outcome{}, err
	}
	if err := c.authorize(ctx, "bench/small"); err != nil {
		return outcome{}, err
	}
	wall, cpu, err := pushImages(ctx, c, "bench/small", "v", images)
	if err != nil {
		return outcome{}, err
	}
	return outcome{values: map[string]float64{"small": float64(cfg.images) / wall.Seconds()}, cpu: cpu}, nil
}

// smallImages builds workload small's cfg.images images, from seeds
// seed, seed+1, ...
func smallImages(seed uint64, cfg config) ([]image, error) {
	images := make([]image, cfg.images)
	for i := range images {
		im, err := newImage(seed+uint64(i), cfg.layers, cfg.layerSize)
		if err != nil {
			return nil, err
		}
		images[i] = im
	}
	return images, nil
}

// pushImages pushes images to repo one after another, tagged tagPrefix
// and their index, and returns the wall time and client cores it took.
func pushImages(ctx context.Context, c *client, repo, tagPrefix string, images []image) (time.Duration, float64, error) {
	return timed(func() error {
		for i, im := range images {
			if err := im.push(ctx, c, repo, fmt.Sprintf("%s%d", tagPrefix, i)); err != nil {
				return fmt.Errorf("image %d: %w", i, err)
			}
		}
		return nil
	})
}

func runGet(ctx context.Context, c *client, cfg config, _ int) (outcome, error) {
	return getLoad(ctx, c, c, "bench/get", "get", cfg)
}

// runAnon is runGet without credentials, of a public repository: on
// chainctl, runGet's figure divided by this one is what authentication
// costs a manifest GET. The manifest is pushed with the client's token.
func runAnon(ctx context.Context, c *client, cfg config, _ int) (outcome, error) {
	o, err := getLoad(ctx, c, c.anonymous(), publicPrefix+"get", "anon", cfg)
	// The table compares the rates; latencies are reported for get.
	delete(o.values, "anon-p50")
	delete(o.values, "anon-p99")
	return o, err
}

// getLoad pushes the GET workload's image to repo with push, then has
// cfg.concurrency workers GET its manifest by tag with pull and reports
// the figures under id.
func getLoad(ctx context.Context, push, pull *client, repo, id string, cfg config) (outcome, error) {
	want, err := pushGetImage(ctx, push, pull, repo)
	if err != nil {
		return outcome{}, err
	}
	load, err := getPhase(ctx, pull, repo, want, cfg)
	if err != nil {
		return outcome{}, err
	}
	return load.outcome(id), nil
}

// pushGetImage pushes the GET workloads' image to repo, tagged latest,
// with push, gets pull's token for repo, and returns the manifest's size.
func pushGetImage(ctx context.Context, push, pull *client, repo string) (int64, error) {
	im, err := newImage(seedGet, 1, 4<<10)
	if err != nil {
		return 0, err
	}
	if err := im.push(ctx, push, repo, "latest"); err != nil {
		return 0, fmt.Errorf("setup: %w", err)
	}
	if err := pull.authorize(ctx, repo); err != nil {
		return 0, err
	}
	return int64(len(im.manifest)), nil
}

// getPhase is a GET load phase: cfg.concurrency workers GET repo's
// manifest by the tag latest with c, in a closed loop, for cfg.duration,
// and check each answer has want bytes.
func getPhase(ctx context.Context, c *client, repo string, want int64, cfg config) (load, error) {
	return hammer(ctx, cfg.concurrency, cfg.duration, cfg.maxSamples, func(ctx context.Context, _ int) error {
		n, err := c.getManifest(ctx, repo, "latest")
		if err == nil && n != want {
			err = fmt.Errorf("GET manifest: %d bytes, want %d", n, want)
		}
		return err
	})
}

func runHead(ctx context.Context, c *client, cfg config, _ int) (outcome, error) {
	im, err := newImage(seedHead, 1, 4<<10)
	if err != nil {
		return outcome{}, err
	}
	if err := im.push(ctx, c, "bench/head", "latest"); err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	if err := c.authorize(ctx, "bench/head"); err != nil {
		return outcome{}, err
	}
	load, err := hammer(ctx, cfg.concurrency, cfg.duration, cfg.maxSamples, func(ctx context.Context, i int) error {
		d, err := c.headManifest(ctx, "bench/head", im.digest)
		if err == nil && i == 0 && d != "" && d != im.digest {
			err = fmt.Errorf("HEAD manifest: Docker-Content-Digest %s, want %s", d, im.digest)
		}
		return err
	})
	if err != nil {
		return outcome{}, err
	}
	return load.outcome("head"), nil
}

func runTags(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	const repo = "bench/tags"
	im, err := newImage(seedTags, 1, 4<<10)
	if err != nil {
		return outcome{}, err
	}
	if round == 0 { // later rounds reuse the repository
		if err := im.push(ctx, c, repo, "t0000"); err != nil {
			return outcome{}, fmt.Errorf("setup: %w", err)
		}
		for i := 1; i < cfg.tags; i++ {
			if err := c.putManifest(ctx, repo, fmt.Sprintf("t%04d", i), im.manifest); err != nil {
				return outcome{}, fmt.Errorf("setup: %w", err)
			}
		}
	}
	if err := c.authorize(ctx, repo); err != nil {
		return outcome{}, err
	}
	load, err := hammer(ctx, cfg.tagsConcurrency, cfg.tagsDuration, cfg.maxSamples, func(ctx context.Context, i int) error {
		// Decode the first answer of each worker to check the registry
		// returns every tag; after that only the status is checked.
		tags, err := c.listTags(ctx, repo, cfg.tags, i == 0)
		if err == nil && i == 0 && len(tags) != cfg.tags {
			err = fmt.Errorf("tags list: %d tags, want %d", len(tags), cfg.tags)
		}
		return err
	})
	if err != nil {
		return outcome{}, err
	}
	o := load.outcome("tags")
	delete(o.values, "tags-p50")
	delete(o.values, "tags-p99")
	return o, nil
}
