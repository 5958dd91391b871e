package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/store"
)

// InFlight is how many attempts a subscription has under way at once: a
// transport that keeps fewer idle connections to a sink than that closes
// and dials them again all the time.
const InFlight = 4

// Delivery defaults.
const (
	// DefaultRetryFor is how long a delivery is retried after its event
	// (events.retry_for), then kept as failed.
	DefaultRetryFor = 24 * time.Hour
	// DeliveryTimeout bounds one attempt, from dialing to the answer.
	DeliveryTimeout = 10 * time.Second
	// tokenLifetime is the life of the token signing one attempt.
	tokenLifetime = 5 * time.Minute
	// pollInterval is how often the dispatcher looks for due deliveries.
	pollInterval = 200 * time.Millisecond
	// claimBatch is how many deliveries a worker claims at once, and
	// deliveryLease how long it holds them: every attempt of the batch can
	// time out within it.
	claimBatch    = 32
	deliveryLease = claimBatch/InFlight*DeliveryTimeout + 30*time.Second
	// Backoff: full jitter over base·2^attempts, capped.
	backoffBase = time.Second
	backoffCap  = time.Hour
	// maxAnswer is how much of a sink's answer is read.
	maxAnswer = 4 << 10
	// yieldFactor is how many times as long as a batch took a worker
	// pauses after it while the server is busy (WithYield): deliveries
	// then take about a quarter of the time they would.
	yieldFactor = 3
)

// DispatchStore is what delivering needs of the metadata store.
type DispatchStore interface {
	ListSubscriptions(ctx context.Context) ([]store.Subscription, error)
	ClaimDeliveries(ctx context.Context, subscription string, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error)
	FinishDeliveries(ctx context.Context, subscription string, done []store.FinishedDelivery) error
	DisableSubscription(ctx context.Context, id string, at time.Time, reason string) error
}

// Signer signs the token of each attempt (the registry's issuer).
type Signer interface {
	Sign(ctx context.Context, c issuer.Claims) (string, error)
}

// Dispatcher delivers pending events to their subscriptions' sinks: at
// least once, each subscription by a worker of its own (so that a slow or
// dead sink delays no other) with a few attempts in flight, with exponential backoff and full jitter for
// RetryFor, and a 410 Gone disabling the subscription. Replicas sharing a
// store share the work: each delivery is claimed by one worker at a time.
type Dispatcher struct {
	st       DispatchStore
	signer   Signer
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	retryFor time.Duration
	poll     time.Duration
	busy     func() bool                                // WithYield
	pause    func(ctx context.Context, d time.Duration) // how a yielding worker waits
}

// DispatcherOption configures NewDispatcher.
type DispatcherOption func(*Dispatcher)

// WithDispatchLogger sets the logger.
func WithDispatchLogger(l *slog.Logger) DispatcherOption { return func(d *Dispatcher) { d.log = l } }

// WithRetryFor sets how long deliveries are retried (events.retry_for).
func WithRetryFor(t time.Duration) DispatcherOption { return func(d *Dispatcher) { d.retryFor = t } }

// WithDispatchClock sets the clock, for tests.
func WithDispatchClock(now func() time.Time) DispatcherOption {
	return func(d *Dispatcher) { d.now = now }
}

// WithYield makes deliveries yield to the requests the server is serving:
// while busy reports true, each subscription's worker pauses after a batch
// for three times as long as the batch took. A backlog (a subscription to
// the pulls of a repository served at thousands a second can build one
// faster than one sink takes events) then drains at about a quarter of its
// speed, and the pulls keep the CPU; once the load falls, at full speed.
func WithYield(busy func() bool) DispatcherOption { return func(d *Dispatcher) { d.busy = busy } }

// WithPollInterval sets how often due deliveries are looked for.
func WithPollInterval(p time.Duration) DispatcherOption { return func(d *Dispatcher) { d.poll = p } }

// NewDispatcher returns a dispatcher that sends with transport (which
// decides which addresses may be reached: egress.PublicOnly unless private
// sinks are allowed). It never follows a redirect and never uses a proxy
// from the environment, whatever transport is given.
func NewDispatcher(st DispatchStore, signer Signer, transport http.RoundTripper, opts ...DispatcherOption) *Dispatcher {
	d := &Dispatcher{
		st: st, signer: signer, log: slog.New(slog.DiscardHandler), now: time.Now,
		retryFor: DefaultRetryFor, poll: pollInterval, pause: sleep,
		client: &http.Client{
			Transport: transport,
			Timeout:   DeliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a sink that redirects has not taken the event
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Run delivers until ctx ends, then waits for the attempts in flight.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	draining := map[string]bool{}
	tick := time.NewTicker(d.poll)
	defer tick.Stop()
	for {
		subs, err := d.st.ListSubscriptions(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "list subscriptions", "err", err)
		}
		for _, sub := range subs {
			if !sub.Disabled.IsZero() {
				continue
			}
			mu.Lock()
			if draining[sub.ID] {
				mu.Unlock()
				continue
			}
			draining[sub.ID] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() { mu.Lock(); delete(draining, sub.ID); mu.Unlock() }()
				d.drain(ctx, sub)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// drain delivers sub's due deliveries, in event order, until none is due.
func (d *Dispatcher) drain(ctx context.Context, sub store.Subscription) {
	for ctx.Err() == nil {
		batch, err := d.st.ClaimDeliveries(ctx, sub.ID, d.now(), deliveryLease, claimBatch)
		if err != nil {
			if ctx.Err() == nil {
				d.log.WarnContext(ctx, "claim deliveries", "subscription", sub.ID, "err", err)
			}
			return
		}
		if len(batch) == 0 {
			return
		}
		start := time.Now()
		// A few attempts at once: a sink that takes 100 ms an answer still
		// gets several events a second. Events of one subscription may so
		// arrive out of order, as retries make them anyway.
		// The outcomes are written together, in one transaction, when
		// the batch is done; those not written (a crash) are tried again
		// when the lease ends: at least once.
		var wg sync.WaitGroup
		var gone atomic.Bool
		var mu sync.Mutex
		var done []store.FinishedDelivery
		slots := make(chan struct{}, InFlight)
		for _, dl := range batch {
			if ctx.Err() != nil || gone.Load() {
				break // the lease lets another worker take the rest
			}
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				o := d.attempt(ctx, sub, dl)
				if o.Status == http.StatusGone {
					gone.Store(true)
				}
				mu.Lock()
				done = append(done, store.FinishedDelivery{Seq: dl.Event.Seq, Outcome: o})
				mu.Unlock()
			})
		}
		wg.Wait()
		// Recorded even as the server shuts down.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := d.st.FinishDeliveries(fctx, sub.ID, done); err != nil {
			d.log.WarnContext(ctx, "record deliveries", "subscription", sub.ID, "deliveries", len(done), "err", err)
		}
		if gone.Load() {
			d.disable(fctx, sub)
		}
		cancel()
		if gone.Load() {
			return
		}
		if d.busy != nil && d.busy() {
			d.pause(ctx, yieldFactor*time.Since(start))
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// disable stops deliveries to sub, whose sink answered 410 Gone.
func (d *Dispatcher) disable(ctx context.Context, sub store.Subscription) {
	reason := "the sink answered 410 Gone"
	if err := d.st.DisableSubscription(ctx, sub.ID, d.now(), reason); err != nil {
		d.log.WarnContext(ctx, "disable subscription", "subscription", sub.ID, "err", err)
	}
	d.log.WarnContext(ctx, "subscription disabled", "subscription", sub.ID, "reason", reason)
}

// attempt delivers one event and returns its outcome.
func (d *Dispatcher) attempt(ctx context.Context, sub store.Subscription, dl store.Delivery) store.DeliveryOutcome {
	status, err := d.send(ctx, sub, dl.Event)
	now := d.now()
	o := store.DeliveryOutcome{Status: status, At: now}
	switch {
	case err == nil:
		o.Delivered = true
	case status == http.StatusGone:
		o.Failed, o.Error = true, err.Error()
	case now.Sub(retryFrom(dl)) >= d.retryFor:
		o.Failed, o.Error = true, err.Error()+" (no more retries: events.retry_for has passed since the event, or since it was redelivered)"
	default:
		o.Error, o.Retry = err.Error(), now.Add(backoff(dl.Attempts, retryAfter(err)))
	}
	if err != nil {
		d.log.InfoContext(ctx, "delivery failed", "subscription", sub.ID, "event", dl.Event.ID, "attempt", dl.Attempts+1, "err", err)
	}
	return o
}

// retryFrom is when a delivery's retries began: its event, or its
// redelivery by hand if later.
func retryFrom(dl store.Delivery) time.Time {
	if dl.Queued.After(dl.Event.Time) {
		return dl.Queued
	}
	return dl.Event.Time
}

// sinkError is a delivery the sink did not take, with its status.
type sinkError struct {
	status     int
	retryAfter time.Duration
}

func (e *sinkError) Error() string {
	return "the sink answered " + strconv.Itoa(e.status) + " " + http.StatusText(e.status)
}

// send POSTs e to sub's sink in CloudEvents binary mode, with a token of
// the registry's issuer for this body, and returns the sink's status.
func (d *Dispatcher) send(ctx context.Context, sub store.Subscription, e store.Event) (int, error) {
	ce := cloudevents.NewEvent()
	ce.SetID(e.ID)
	ce.SetSource(e.Source)
	ce.SetType(e.Type)
	ce.SetSubject(e.Subject)
	ce.SetTime(e.Time)
	if err := ce.SetData(cloudevents.ApplicationJSON, e.Data); err != nil {
		return 0, fmt.Errorf("event %s: %w", e.ID, err)
	}
	sum := sha256.Sum256(e.Data)
	tok, err := d.signer.Sign(ctx, issuer.Claims{
		Subject: "subscription:" + sub.ID, Audience: []string{sub.Sink},
		Expiry: d.now().Add(tokenLifetime), Digest: "sha256:" + hex.EncodeToString(sum[:]),
		Event: &issuer.EventRef{ID: e.ID, Type: e.Type},
	})
	if err != nil {
		return 0, fmt.Errorf("sign the delivery: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Sink, nil)
	if err != nil {
		// Not the URL: a sink may carry a secret in its query.
		return 0, fmt.Errorf("sink of subscription %s: %w", sub.ID, err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&ce), req); err != nil {
		return 0, fmt.Errorf("event %s: %w", e.ID, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "chainctl-registry-events/1")
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// What failed, without the URL: the subscription's own, and it
			// may carry a secret in its query, which would reach the log.
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	se := &sinkError{status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		se.retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, se
}

// retryAfter is the wait a sink asked for (429, 503), or 0.
func retryAfter(err error) time.Duration {
	var se *sinkError
	if errors.As(err, &se) {
		return se.retryAfter
	}
	return 0
}

// backoff is the wait before the next attempt after attempts failed ones:
// full jitter over base·2^attempts, capped at an hour, and at least what
// the sink asked for.
func backoff(attempts int, asked time.Duration) time.Duration {
	ceiling := backoffCap
	if attempts < 20 {
		ceiling = min(backoffCap, backoffBase<<attempts)
	}
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
	return min(max(wait, asked), backoffCap)
}
