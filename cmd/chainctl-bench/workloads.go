package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
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
	concurrency         int           // workloads "get" and "head"
	duration            time.Duration // workloads "get" and "head", each
	tagsConcurrency     int
	tagsDuration        time.Duration
	maxSamples          int // cap on requests per load phase, to bound memory
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
	}
}

func quickConfig() config {
	c := defaultConfig()
	c.blobSize, c.chunkSize = 8<<20, 1<<20
	c.images, c.tags = 5, 50
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
	seedSmall   = 1000 // + image index
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
	// only, if set, is the one target the workload runs against.
	only string
}

func workloads() []workload {
	return []workload{
		{name: "mono", about: "push one large blob: POST, then one PUT with the body", run: runMono},
		{name: "chunked", about: "push one large blob: POST, PATCH per chunk, PUT", run: runChunked},
		{name: "small", about: "push small images one after another", run: runSmall},
		{name: "get", about: "concurrent manifest GETs by tag", run: runGet},
		{name: "anon", about: "the same GETs without a token, of a public repository (chainctl only)", run: runAnon, only: targetChainctl},
		{name: "head", about: "concurrent manifest HEADs by digest", run: runHead},
		{name: "tags", about: "concurrent tags list of a large repository", run: runTags},
		{name: "blob", about: "concurrent blob GETs by digest: on chainctl-s3 the 307 answers alone, then pulls following them to the bucket; elsewhere streamed GETs", run: runBlob},
	}
}

// runsAgainst reports whether w runs against the named target.
func (w workload) runsAgainst(target string) bool { return w.only == "" || w.only == target }

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

// blob is a small blob held in memory.
type blob struct {
	digest string
	data   []byte
}

// image is an OCI image: a config and layers, and the manifest naming them.
type image struct {
	blobs    []blob // config first
	manifest []byte
	digest   string // of manifest
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// newImage builds a unique image from seed: layers random layers of
// layerSize bytes, a config listing them, and an OCI image manifest.
func newImage(seed uint64, layers int, layerSize int64) (image, error) {
	var im image
	var diffIDs []string
	var layerDescs []descriptor
	for i := range layers {
		data := patternBytes(seed<<8|uint64(i), layerSize)
		d := sha256Digest(data)
		im.blobs = append(im.blobs, blob{digest: d, data: data})
		diffIDs = append(diffIDs, d)
		layerDescs = append(layerDescs, descriptor{MediaType: mediaLayer, Digest: d, Size: layerSize})
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Labels": map[string]string{"dev.chainctl.bench.seed": fmt.Sprint(seed)}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return image{}, fmt.Errorf("encode config: %w", err)
	}
	cfgDesc := descriptor{MediaType: mediaConfig, Digest: sha256Digest(cfg), Size: int64(len(cfg))}
	im.blobs = append([]blob{{digest: cfgDesc.Digest, data: cfg}}, im.blobs...)
	m, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, mediaManifest, cfgDesc, layerDescs})
	if err != nil {
		return image{}, fmt.Errorf("encode manifest: %w", err)
	}
	im.manifest, im.digest = m, sha256Digest(m)
	return im, nil
}

// push uploads the image's blobs (POST then PUT each) and its manifest
// under tag.
func (im image) push(ctx context.Context, c *client, repo, tag string) error {
	for _, b := range im.blobs {
		if err := c.pushBlob(ctx, repo, b.digest, int64(len(b.data)), bytes.NewReader(b.data)); err != nil {
			return err
		}
	}
	return c.putManifest(ctx, repo, tag, im.manifest)
}

func runSmall(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	images := make([]image, cfg.images)
	for i := range images {
		im, err := newImage(seedSmall+uint64(i)+roundSeed(round), cfg.layers, cfg.layerSize)
		if err != nil {
			return outcome{}, err
		}
		images[i] = im
	}
	if err := c.authorize(ctx, "bench/small"); err != nil {
		return outcome{}, err
	}
	wall, cpu, err := timed(func() error {
		for i, im := range images {
			if err := im.push(ctx, c, "bench/small", fmt.Sprintf("v%d", i)); err != nil {
				return fmt.Errorf("image %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return outcome{}, err
	}
	return outcome{values: map[string]float64{"small": float64(cfg.images) / wall.Seconds()}, cpu: cpu}, nil
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
	im, err := newImage(seedGet, 1, 4<<10)
	if err != nil {
		return outcome{}, err
	}
	if err := im.push(ctx, push, repo, "latest"); err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	if err := pull.authorize(ctx, repo); err != nil {
		return outcome{}, err
	}
	want := int64(len(im.manifest))
	load, err := hammer(ctx, cfg.concurrency, cfg.duration, cfg.maxSamples, func(ctx context.Context, _ int) error {
		n, err := pull.getManifest(ctx, repo, "latest")
		if err == nil && n != want {
			err = fmt.Errorf("GET manifest: %d bytes, want %d", n, want)
		}
		return err
	})
	if err != nil {
		return outcome{}, err
	}
	return load.outcome(id), nil
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

// load is the result of a hammer phase.
type load struct {
	requests int
	wall     time.Duration
	cpu      float64
	lat      []time.Duration // sorted
}

// quantile returns the q-quantile latency (nearest rank).
func (l load) quantile(q float64) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(l.lat))+0.999999) - 1
	return l.lat[min(max(i, 0), len(l.lat)-1)]
}

func (l load) outcome(id string) outcome {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return outcome{
		values: map[string]float64{
			id:          float64(l.requests) / l.wall.Seconds(),
			id + "-p50": ms(l.quantile(0.50)),
			id + "-p99": ms(l.quantile(0.99)),
		},
		cpu: l.cpu,
	}
}

// hammer runs op from workers goroutines in a closed loop for d, or until
// maxRequests requests in all, and records each request's latency. The
// first error stops every worker and is returned.
func hammer(ctx context.Context, workers int, d time.Duration, maxRequests int, op func(ctx context.Context, iter int) error) (load, error) {
	// Requests in flight at the deadline are let finish; the extra 30 s
	// bounds a server that stops answering.
	ctx, cancel := context.WithTimeoutCause(ctx, d+30*time.Second, fmt.Errorf("load phase did not finish within %s", d+30*time.Second))
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	perWorker := max(maxRequests/workers, 1)
	lats := make([][]time.Duration, workers)
	var l load
	var wg sync.WaitGroup
	l.wall, l.cpu, _ = timed(func() error {
		deadline := time.Now().Add(d)
		for w := range workers {
			wg.Go(func() {
				own := make([]time.Duration, 0, 4096)
				for i := 0; i < perWorker && ctx.Err() == nil; i++ {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					if err := op(ctx, i); err != nil {
						stop(err)
						break
					}
					own = append(own, time.Since(t0))
				}
				lats[w] = own
			})
		}
		wg.Wait()
		return nil
	})
	if err := context.Cause(ctx); err != nil {
		return load{}, err
	}
	for _, own := range lats {
		l.lat = append(l.lat, own...)
	}
	slices.Sort(l.lat)
	l.requests = len(l.lat)
	return l, nil
}
