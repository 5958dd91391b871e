package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CloudEvents types of chainctl's events (internal/events).
const (
	eventTypePush = "dev.chainctl.registry.push.v1"
	eventTypePull = "dev.chainctl.registry.pull.v1"
)

// maxSinkBody bounds what the sink reads of a delivery; an event's data is
// well under 1 KiB.
const maxSinkBody = 64 << 10

// sink is the event workloads' webhook: an HTTP server on loopback that
// takes chainctl's deliveries, POSTs in CloudEvents binary mode (ce-id,
// ce-type, ... headers; the event's JSON data as the body), answers each
// 204 at once and counts it, remembering when the first delivery of each
// digest arrived.
//
// It does not verify the delivery's token (Authorization: Bearer, a JWT of
// the registry's issuer over the body's digest), only that there is one: a
// subscriber's check is the subscriber's CPU, not the registry's, and the
// e2e tests verify it. Everything else a subscriber relies on is checked;
// a delivery that lacks it is still answered 204, so that the registry
// does not retry it into the measurement, and makes the workload fail.
type sink struct {
	url  string
	typ  string // the CloudEvents type every delivery must have
	srv  *http.Server
	done chan struct{} // closed when Serve has returned

	received atomic.Int64

	mu      sync.Mutex
	arrived map[string]time.Time // digest → first delivery's arrival
	bad     int
	badWhy  string // the first malformed delivery's fault
}

// newSink starts a sink for events of type typ on a free loopback port.
func newSink(typ string) (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the event sink: %w", err)
	}
	s := &sink{
		url:     "http://" + ln.Addr().String() + "/hook",
		typ:     typ,
		done:    make(chan struct{}),
		arrived: map[string]time.Time{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after close
	}()
	return s, nil
}

// close stops the sink; deliveries in flight are cut off (the registry
// retries them, into a subscription the workload has deleted).
func (s *sink) close() {
	_ = s.srv.Close()
	<-s.done
}

// ServeHTTP takes one delivery.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodPost || r.URL.Path != "/hook" {
		http.Error(w, "POST /hook", http.StatusMethodNotAllowed)
		return
	}
	var digest string
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSinkBody))
	if err == nil {
		digest, err = s.check(r.Header, body)
	}
	s.received.Add(1)
	s.mu.Lock()
	if err != nil {
		s.bad++
		if s.badWhy == "" {
			s.badWhy = err.Error()
		}
	} else if _, ok := s.arrived[digest]; !ok {
		s.arrived[digest] = at
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// check returns the digest a delivery's event is about, or what is wrong
// with it: the CloudEvents attributes, a bearer token, and data with a
// digest and the time the registry served the request.
func (s *sink) check(h http.Header, body []byte) (string, error) {
	for _, k := range []string{"ce-id", "ce-source", "ce-type", "ce-subject", "ce-time", "ce-specversion"} {
		if h.Get(k) == "" {
			return "", fmt.Errorf("no %s header", k)
		}
	}
	if t := h.Get("ce-type"); t != s.typ {
		return "", fmt.Errorf("ce-type %q, want %q", t, s.typ)
	}
	if tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer "); !ok || tok == "" {
		return "", errors.New("no bearer token")
	}
	var d struct {
		Digest string    `json:"digest"`
		When   time.Time `json:"when"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if d.Digest == "" || d.When.IsZero() {
		return "", errors.New("data without digest or when")
	}
	return d.Digest, nil
}

// count returns how many deliveries arrived so far.
func (s *sink) count() int64 { return s.received.Load() }

// err reports the first malformed delivery, if any.
func (s *sink) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bad == 0 {
		return nil
	}
	return fmt.Errorf("the sink got %d malformed deliveries, the first: %s", s.bad, s.badWhy)
}

// arrivals returns when the first delivery of each of digests arrived,
// and how many have not arrived yet.
func (s *sink) arrivals(digests []string) (at []time.Time, missing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at = make([]time.Time, len(digests))
	for i, d := range digests {
		t, ok := s.arrived[d]
		if !ok {
			missing++
		}
		at[i] = t
	}
	return at, missing
}

// sinkPoll is how often the sink is looked at while waiting for
// deliveries; the arrival times themselves are exact.
const sinkPoll = 10 * time.Millisecond

// await waits until a delivery of every one of digests has arrived, for
// at most limit, and returns their arrival times.
func (s *sink) await(ctx context.Context, digests []string, limit time.Duration) ([]time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(sinkPoll)
	defer t.Stop()
	for {
		at, missing := s.arrivals(digests)
		if err := s.err(); err != nil {
			return nil, err
		}
		if missing == 0 {
			return at, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d events not delivered within %s (%d deliveries arrived in all)", missing, len(digests), limit, s.count())
		case <-t.C:
		}
	}
}
