package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The event workloads (issue 13) run against chainctl's targets only:
// Distribution's notifications are another design. chainctl records every
// push and pull as an event and delivers those a subscription matches to
// its sink (internal/events). Each workload makes a session token (as the
// pull-token workloads do), starts a sink of its own on loopback (see
// sink), and with the session creates a subscription to one repository
// that no other workload uses, for the time it measures, then deletes it:
// deleting drops its pending deliveries, so that none spills into the next
// workload. The benchmark's configuration file sets
// events.allow_private_sinks, without which a loopback sink is refused.
//
//   - evget: manifest GETs by tag as in get, in two phases of one run:
//     without a subscription (the pull events are still written to the
//     event log), and with a subscription to the repository's pulls. Its
//     figures: both rates and their ratio (sub/none, target ≥ 0.8×); the
//     deliveries that reached the sink during the loaded phase, per second;
//     the deliveries still pending when it ended (the backlog); the share
//     of GETs whose pull event was never recorded (the recorder drops pull
//     events when its queue is full rather than slow requests); and how
//     long deleting the subscription, with that backlog, took.
//   - evpush: small-image pushes as in small, without and with a
//     subscription to the repository's pushes (five push events per
//     image: four blobs and the manifest): both rates and their ratio
//     (sub/none, target ≥ 0.8×), and the backlog when the pushes ended.
//   - evrate: how fast events reach a sink, with a push subscription: a
//     burst of cfg.events manifest pushes (cfg.eventPushers at once), timed
//     from the first push until the last one's event has arrived; and the
//     latency from a push's 201, as the client sees it, to its delivery's
//     arrival, matched by the manifest's digest, at a pace of
//     cfg.eventRate pushes a second, which a healthy dispatcher follows
//     without a backlog (target: p99 under 1 s).

// Event workload repositories.
const (
	evGetRepo  = "bench/evget"
	evPushRepo = "bench/evpush"
	evRateRepo = "bench/evrate"
)

// Event workload bounds.
const (
	// evDrainLimit bounds the wait for deliveries to reach the sink.
	evDrainLimit = 2 * time.Minute
	// evSettleEvery and evSettleLooks pace awaitRecorded: the wait,
	// after evget's loaded phase, for the registry to write the events it
	// still has queued (it writes them every 100 ms).
	evSettleEvery = 250 * time.Millisecond
	evSettleLooks = 40
	// evDeleteLimit bounds deleting a subscription, with every delivery
	// still pending.
	evDeleteLimit = 2 * time.Minute
)

// subscriptionRequest is the body of POST /api/v1/subscriptions.
type subscriptionRequest struct {
	Sink         string   `json:"sink"`
	Types        []string `json:"types"`
	Repositories []string `json:"repositories"`
	Description  string   `json:"description,omitempty"`
}

// subscription is an event subscription the benchmark made, with the
// session token that may read and delete it.
type subscription struct {
	c       *client
	session string
	id      string
}

// apiJSON sends a request of chainctl's management API with a session
// token and the JSON of in (if not nil), fails unless the answer is want,
// and decodes the answer into out (if not nil).
func (c *client) apiJSON(ctx context.Context, session, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, nil), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+session)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var buf bytes.Buffer
	if _, err := c.do(req, &buf, want); err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// subscribe creates a subscription with a session token.
func (c *client) subscribe(ctx context.Context, session string, r subscriptionRequest) (*subscription, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := c.apiJSON(ctx, session, http.MethodPost, "/api/v1/subscriptions", r, &v, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("create subscription: %w", err)
	}
	if v.ID == "" {
		return nil, errors.New("create subscription: the answer holds no id")
	}
	return &subscription{c: c, session: session, id: v.ID}, nil
}

// pending returns how many of the subscription's deliveries are pending:
// recorded, and not yet taken by its sink.
func (s *subscription) pending(ctx context.Context) (int64, error) {
	var v struct {
		Health struct {
			Pending int64 `json:"pending"`
		} `json:"health"`
	}
	if err := s.c.apiJSON(ctx, s.session, http.MethodGet, "/api/v1/subscriptions/"+s.id, nil, &v, http.StatusOK); err != nil {
		return 0, fmt.Errorf("subscription %s: %w", s.id, err)
	}
	return v.Health.Pending, nil
}

// delete deletes the subscription, and with it its pending deliveries.
func (s *subscription) delete(ctx context.Context) error {
	if err := s.c.apiJSON(ctx, s.session, http.MethodDelete, "/api/v1/subscriptions/"+s.id, nil, nil, http.StatusNoContent); err != nil {
		return fmt.Errorf("delete subscription %s: %w", s.id, err)
	}
	return nil
}

// withSubscription creates a subscription of events of typ ("push" or
// "pull") in repo, posting to sk, runs f with it, and deletes it, whether
// f failed or not (even as ctx ends: the benchmark must not leave a
// subscription piling up deliveries behind). It returns how long the
// deletion took.
func withSubscription(ctx context.Context, c *client, session string, sk *sink, typ, repo string, f func(*subscription) error) (time.Duration, error) {
	sub, err := c.subscribe(ctx, session, subscriptionRequest{
		Sink: sk.url, Types: []string{typ}, Repositories: []string{repo}, Description: "chainctl-bench",
	})
	if err != nil {
		return 0, fmt.Errorf("setup: %w", err)
	}
	err = f(sub)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evDeleteLimit)
	defer cancel()
	t0 := time.Now()
	derr := sub.delete(dctx)
	return time.Since(t0), errors.Join(err, derr)
}

// cpuMean is the client CPU of several timed parts together: their CPU
// seconds over their wall seconds.
type cpuMean struct {
	cpuSecs, wallSecs float64
	unknown           bool
}

// add counts a timed part of wall time with cpu cores (<0: unknown).
func (m *cpuMean) add(wall time.Duration, cpu float64) {
	if cpu < 0 {
		m.unknown = true
		return
	}
	m.cpuSecs += cpu * wall.Seconds()
	m.wallSecs += wall.Seconds()
}

// cores returns the mean, or -1 if any part's CPU was unknown.
func (m cpuMean) cores() float64 {
	if m.unknown || m.wallSecs <= 0 {
		return -1
	}
	return m.cpuSecs / m.wallSecs
}

// offOn is the order of a workload's two phases, without and with a
// subscription: alternated from round to round, so that neither always
// runs on the warmer (or fuller) registry.
func offOn(round int) []bool {
	if round%2 == 1 {
		return []bool{true, false}
	}
	return []bool{false, true}
}

// runEventGet is workload evget. Against a registry that wants no tokens
// it measures nothing: there is no session to subscribe with.
func runEventGet(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	if c.auth == nil {
		return outcome{cpu: -1}, nil
	}
	session, err := c.session(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	want, err := pushGetImage(ctx, c, c, evGetRepo)
	if err != nil {
		return outcome{}, err
	}
	sk, err := newSink(eventTypePull)
	if err != nil {
		return outcome{}, err
	}
	defer sk.close()
	out := outcome{values: map[string]float64{}}
	var cpu cpuMean
	for _, on := range offOn(round) {
		if !on {
			l, err := getPhase(ctx, c, evGetRepo, want, cfg)
			if err != nil {
				return outcome{}, err
			}
			out.values["evget-off"] = float64(l.requests) / l.wall.Seconds()
			cpu.add(l.wall, l.cpu)
			continue
		}
		deleted, err := withSubscription(ctx, c, session, sk, "pull", evGetRepo, func(sub *subscription) error {
			before := sk.count()
			l, err := getPhase(ctx, c, evGetRepo, want, cfg)
			if err != nil {
				return err
			}
			delivered := sk.count() - before
			received, pending, err := awaitRecorded(ctx, sub, sk)
			if err != nil {
				return err
			}
			if err := sk.err(); err != nil {
				return err
			}
			out.values["evget-on"] = float64(l.requests) / l.wall.Seconds()
			out.values["evget-delivered"] = float64(delivered) / l.wall.Seconds()
			out.values["evget-backlog"] = float64(pending)
			// Every GET of the phase is a pull event the subscription
			// matches: one delivery, arrived or pending, unless dropped.
			recorded := received - before + pending
			out.values["evget-dropped"] = 100 * float64(max(int64(l.requests)-recorded, 0)) / float64(l.requests)
			cpu.add(l.wall, l.cpu)
			return nil
		})
		if err != nil {
			return outcome{}, err
		}
		out.values["evget-delete"] = ms(deleted)
	}
	out.cpu = cpu.cores()
	return out, nil
}

// awaitRecorded waits, after a load phase, until the registry has written
// every pull event it still had queued: until the deliveries recorded for
// sub (arrived at sk, or pending) stop growing, for at most evSettleLooks
// looks. It returns the last look's counts; if they never settled, the
// pending count is a lower bound.
func awaitRecorded(ctx context.Context, sub *subscription, sk *sink) (received, pending int64, err error) {
	last := int64(-1)
	for range evSettleLooks {
		r1 := sk.count()
		p, err := sub.pending(ctx)
		if err != nil {
			return 0, 0, err
		}
		r2 := sk.count()
		// Deliveries arriving while the health is read are counted
		// neither in r1 nor in p, or in both r2 and p: allow for them.
		sum := p + (r1+r2)/2
		if last >= 0 && sum-last <= r2-r1+2 {
			return r2, p, nil
		}
		last = sum
		received, pending = r2, p
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(evSettleEvery):
		}
	}
	return received, pending, nil
}

// runEventPush is workload evpush. Against a registry that wants no
// tokens it measures nothing.
func runEventPush(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	if c.auth == nil {
		return outcome{cpu: -1}, nil
	}
	session, err := c.session(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	if err := c.authorize(ctx, evPushRepo); err != nil {
		return outcome{}, err
	}
	sk, err := newSink(eventTypePush)
	if err != nil {
		return outcome{}, err
	}
	defer sk.close()
	out := outcome{values: map[string]float64{}}
	var cpu cpuMean
	for _, on := range offOn(round) {
		// Each phase pushes images of its own, new in every round.
		phase, id := uint64(0), "evpush-off"
		if on {
			phase, id = 1, "evpush-on"
		}
		images, err := smallImages(seedEvPush+phase<<16+roundSeed(round), cfg)
		if err != nil {
			return outcome{}, err
		}
		push := func() error {
			wall, cores, err := pushImages(ctx, c, evPushRepo, id+"-", images)
			if err != nil {
				return err
			}
			out.values[id] = float64(len(images)) / wall.Seconds()
			cpu.add(wall, cores)
			return nil
		}
		if !on {
			if err := push(); err != nil {
				return outcome{}, err
			}
			continue
		}
		_, err = withSubscription(ctx, c, session, sk, "push", evPushRepo, func(sub *subscription) error {
			if err := push(); err != nil {
				return err
			}
			pending, err := sub.pending(ctx)
			if err != nil {
				return err
			}
			out.values["evpush-backlog"] = float64(pending)
			// Deliveries go out in event order: once every manifest's
			// has arrived, so have its blobs'.
			var digests []string
			for _, im := range images {
				digests = append(digests, im.digest)
			}
			_, err = sk.await(ctx, digests, evDrainLimit)
			return err
		})
		if err != nil {
			return outcome{}, err
		}
	}
	out.cpu = cpu.cores()
	return out, nil
}

// eventManifests returns n manifests that differ from base only by an
// annotation naming them (and so by digest), and their digests.
func eventManifests(base []byte, name string, n int) ([][]byte, []string, error) {
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, nil, fmt.Errorf("decode manifest: %w", err)
	}
	bodies, digests := make([][]byte, n), make([]string, n)
	for i := range n {
		m["annotations"] = map[string]string{"dev.chainctl.bench.event": fmt.Sprintf("%s-%d", name, i)}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, nil, fmt.Errorf("encode manifest: %w", err)
		}
		bodies[i], digests[i] = b, sha256Digest(b)
	}
	return bodies, digests, nil
}

// runEventRate is workload evrate. Against a registry that wants no
// tokens it measures nothing.
func runEventRate(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	if c.auth == nil {
		return outcome{cpu: -1}, nil
	}
	session, err := c.session(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	// The blobs go first, before the subscription: what is delivered then
	// is the manifests' events alone.
	base, err := newImage(seedEvRate, 1, 4<<10)
	if err != nil {
		return outcome{}, err
	}
	if err := base.push(ctx, c, evRateRepo, "base"); err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	paced, pacedDigests, err := eventManifests(base.manifest, fmt.Sprintf("r%d-paced", round), max(1, int(cfg.duration.Seconds()*float64(cfg.eventRate))))
	if err != nil {
		return outcome{}, err
	}
	burst, burstDigests, err := eventManifests(base.manifest, fmt.Sprintf("r%d-burst", round), cfg.events)
	if err != nil {
		return outcome{}, err
	}
	sk, err := newSink(eventTypePush)
	if err != nil {
		return outcome{}, err
	}
	defer sk.close()
	out := outcome{values: map[string]float64{}, cpu: -1}
	_, err = withSubscription(ctx, c, session, sk, "push", evRateRepo, func(*subscription) error {
		lat, err := pacedLatency(ctx, c, sk, paced, pacedDigests, cfg.eventRate)
		if err != nil {
			return err
		}
		out.values["evrate-p50"] = ms(lat.quantile(0.50))
		out.values["evrate-p99"] = ms(lat.quantile(0.99))

		var pushed, delivered time.Duration
		_, out.cpu, err = timed(func() error {
			t0 := time.Now()
			err := parallel(ctx, cfg.eventPushers, len(burst), func(ctx context.Context, i int) error {
				return c.putManifest(ctx, evRateRepo, fmt.Sprintf("b%d", i), burst[i])
			})
			if err != nil {
				return err
			}
			pushed = time.Since(t0)
			at, err := sk.await(ctx, burstDigests, evDrainLimit)
			if err != nil {
				return err
			}
			delivered = slices.MaxFunc(at, func(a, b time.Time) int { return a.Compare(b) }).Sub(t0)
			return nil
		})
		if err != nil {
			return err
		}
		out.values["evrate"] = float64(len(burst)) / delivered.Seconds()
		out.values["evrate-push"] = float64(len(burst)) / pushed.Seconds()
		return sk.err()
	})
	if err != nil {
		return outcome{}, err
	}
	return out, nil
}

// pacedLatency pushes manifests one at a time, perSecond a second, and
// returns, for each, the time from the push's 201 to its delivery's
// arrival at sk (matched by digest).
func pacedLatency(ctx context.Context, c *client, sk *sink, manifests [][]byte, digests []string, perSecond int) (load, error) {
	tick := time.NewTicker(time.Second / time.Duration(max(perSecond, 1)))
	defer tick.Stop()
	created := make([]time.Time, len(manifests))
	for i, m := range manifests {
		if i > 0 {
			select {
			case <-ctx.Done():
				return load{}, ctx.Err()
			case <-tick.C:
			}
		}
		if err := c.putManifest(ctx, evRateRepo, fmt.Sprintf("p%d", i), m); err != nil {
			return load{}, err
		}
		created[i] = time.Now()
	}
	at, err := sk.await(ctx, digests, evDrainLimit)
	if err != nil {
		return load{}, err
	}
	l := load{requests: len(at), lat: make([]time.Duration, len(at))}
	for i := range at {
		// A delivery can overtake the 201 on its way to the client (the
		// event commits before the answer is written): that is no wait.
		l.lat[i] = max(at[i].Sub(created[i]), 0)
	}
	slices.Sort(l.lat)
	return l, nil
}

// parallel runs op(ctx, i) for i from 0 to n-1 on workers goroutines; the
// first error stops them all and is returned.
func parallel(ctx context.Context, workers, n int, op func(ctx context.Context, i int) error) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := op(ctx, i); err != nil {
					stop(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
