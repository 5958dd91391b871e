package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The blob workload: concurrent GETs of one blob by digest. On chainctl-s3
// (--blob-redirect presign) the registry answers 307 with a presigned URL
// of the bucket, and the workload runs two phases: the registry's 307
// answers alone, and whole pulls that follow the redirect to the bucket.
// On the other targets the registry streams the blob, and the second phase
// is a plain streamed GET. Each phase reports the registry process's CPU
// time per request (and, on chainctl-s3, the bucket server's per pull), and
// the pull phase the bytes the registry's responses carried (from
// chainctl's /metrics) as a share of the bytes delivered. With
// --blob-redirect proxy, chainctl-s3 streams, and only the pull phase runs.

// blobRepo is the blob workload's repository.
const blobRepo = "bench/blob"

// blobGetter GETs one blob by digest: through reg, which does not follow
// redirects and sends the repository's token, and, after a 307, from the
// bucket through bucket, which sends no credentials (the URL is presigned).
type blobGetter struct {
	reg    *client
	bucket *http.Client
	digest string
	size   int64
}

func newBlobGetter(c *client, digest string, size int64) *blobGetter {
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	reg := *c
	reg.hc = &http.Client{Transport: c.hc.Transport, CheckRedirect: noFollow}
	return &blobGetter{
		reg:    &reg,
		bucket: &http.Client{Transport: c.hc.Transport, CheckRedirect: noFollow},
		digest: digest,
		size:   size,
	}
}

// get GETs the blob. It reports whether the registry redirected, and with
// follow, fetches the blob from the redirect's Location; it checks that a
// body it reads has the blob's size. Without follow a 307 reads no blob.
func (g *blobGetter) get(ctx context.Context, follow bool) (redirected bool, err error) {
	path := "/v2/" + blobRepo + "/blobs/" + g.digest
	req, err := g.reg.newRequest(ctx, http.MethodGet, blobRepo, g.reg.url(path, nil), nil)
	if err != nil {
		return false, err
	}
	var n countWriter
	resp, err := g.reg.do(req, &n, http.StatusOK, http.StatusTemporaryRedirect)
	if err != nil {
		return false, err
	}
	if resp.StatusCode == http.StatusOK {
		return false, g.checkSize("GET "+path, int64(n))
	}
	if !follow {
		return true, nil
	}
	loc, err := g.reg.location(resp, nil)
	if err != nil {
		return true, err
	}
	breq, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return true, err
	}
	bresp, err := g.bucket.Do(breq)
	if err != nil {
		return true, fmt.Errorf("GET %s redirect: %w", path, err)
	}
	defer bresp.Body.Close()
	if bresp.StatusCode != http.StatusOK {
		excerpt, _ := io.ReadAll(io.LimitReader(bresp.Body, 512))
		return true, fmt.Errorf("GET %s redirect to the bucket: %s: %s", path, bresp.Status, excerpt)
	}
	m, err := io.Copy(io.Discard, bresp.Body)
	if err != nil {
		return true, fmt.Errorf("GET %s from the bucket: %w", path, err)
	}
	return true, g.checkSize("GET "+path+" from the bucket", m)
}

func (g *blobGetter) checkSize(what string, n int64) error {
	if n != g.size {
		return fmt.Errorf("%s: %d bytes, want %d", what, n, g.size)
	}
	return nil
}

func runBlob(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	data := patternBytes(seedBlob, cfg.blobGetSize)
	dgst := sha256Digest(data)
	if round == 0 { // later rounds GET the same blob
		if err := c.pushBlob(ctx, blobRepo, dgst, int64(len(data)), bytes.NewReader(data)); err != nil {
			return outcome{}, fmt.Errorf("setup: %w", err)
		}
	}
	if err := c.authorize(ctx, blobRepo); err != nil {
		return outcome{}, err
	}
	g := newBlobGetter(c, dgst, cfg.blobGetSize)
	redirects, err := g.get(ctx, true) // one untimed pull: checks the content, finds the mode
	if err != nil {
		return outcome{}, err
	}
	out := outcome{values: map[string]float64{}, cpu: -1}
	if redirects {
		l, spent, err := probedPhase(ctx, c, cfg, func(ctx context.Context) error {
			r, err := g.get(ctx, false)
			if err == nil && !r {
				err = errors.New("the registry streamed a blob it had answered with a redirect before")
			}
			return err
		})
		if err != nil {
			return outcome{}, err
		}
		out.values["blob-307"] = float64(l.requests) / l.wall.Seconds()
		if spent.cpuOK {
			out.values["blob-307-cpu"] = micros(spent.cpu) / float64(l.requests)
		}
	}
	l, spent, err := probedPhase(ctx, c, cfg, func(ctx context.Context) error {
		_, err := g.get(ctx, true)
		return err
	})
	if err != nil {
		return outcome{}, err
	}
	out.values["blob"] = float64(l.requests) / l.wall.Seconds()
	out.cpu = l.cpu
	if spent.cpuOK {
		out.values["blob-cpu"] = micros(spent.cpu) / float64(l.requests)
	}
	if spent.bucketOK { // in presign mode the bucket serves the bytes; in proxy mode chainctl reads them from it
		out.values["blob-bucket-cpu"] = micros(spent.bucketCPU) / float64(l.requests)
	}
	if spent.bytesOK {
		out.values["blob-through"] = 100 * spent.bytes / (float64(l.requests) * float64(cfg.blobGetSize))
	}
	return out, nil
}

// probedPhase runs op in a load phase and returns what the registry spent
// over it, as far as its probe can tell.
func probedPhase(ctx context.Context, c *client, cfg config, op func(context.Context) error) (load, reading, error) {
	before := c.server.read(ctx, c.hc)
	l, err := hammer(ctx, cfg.concurrency, cfg.duration, cfg.maxSamples, func(ctx context.Context, _ int) error { return op(ctx) })
	if err != nil {
		return load{}, reading{}, err
	}
	if l.requests == 0 {
		return load{}, reading{}, errors.New("no request finished within the phase")
	}
	after := c.server.read(ctx, c.hc)
	spent := reading{
		cpu:     after.cpu - before.cpu,
		cpuOK:   before.cpuOK && after.cpuOK,
		bytes:   after.bytes - before.bytes,
		bytesOK: before.bytesOK && after.bytesOK,
		// The bucket server's CPU, for the pulls that reach it.
		bucketCPU: after.bucketCPU - before.bucketCPU,
		bucketOK:  before.bucketOK && after.bucketOK,
	}
	return l, spent, nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
