package events_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/egress"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/fakeclock"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// sink is a receiver that checks every delivery as a subscriber would:
// the issuer's signature, the audience, the body digest; then answers
// what answer says.
type sink struct {
	t      *testing.T
	iss    *issuer.Issuer
	srv    *httptest.Server
	mu     sync.Mutex
	got    []string // ce-id of each verified delivery
	answer func(n int) int
	calls  atomic.Int32
	delay  time.Duration
}

func newSink(t *testing.T, iss *issuer.Issuer, answer func(n int) int) *sink {
	s := &sink{t: t, iss: iss, answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) url() string { return s.srv.URL + "/hook" }

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1))
	time.Sleep(s.delay)
	body, _ := io.ReadAll(r.Body)
	raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c, err := s.iss.Verify(r.Context(), raw, s.url())
	sum := sha256.Sum256(body)
	switch {
	case err != nil:
		s.t.Errorf("delivery token: %v", err)
	case c.Digest != "sha256:"+hex.EncodeToString(sum[:]):
		s.t.Errorf("digest claim %s does not match the body", c.Digest)
	case !strings.HasPrefix(c.Subject, "subscription:sub-"):
		s.t.Errorf("token subject %q", c.Subject)
	case r.Header.Get("Ce-Specversion") != "1.0" || r.Header.Get("Ce-Type") == "" || r.Header.Get("Content-Type") != "application/json":
		s.t.Errorf("not a CloudEvent in binary mode: %v", r.Header)
	}
	status := s.answer(n)
	if status/100 == 2 {
		s.mu.Lock()
		s.got = append(s.got, r.Header.Get("Ce-Id"))
		s.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (s *sink) delivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

type deliveryFixture struct {
	st    *sqlite.Store
	iss   *issuer.Issuer
	clock *fakeclock.Clock
	subs  *events.Subscriptions
	rec   *events.Recorder
	owner events.Owner
}

func newDeliveryFixture(t *testing.T) *deliveryFixture {
	f := &deliveryFixture{st: openStore(t), clock: fakeclock.New(time.Now())}
	var err error
	f.iss, err = issuer.New(t.Context(), f.st, issuer.WithIssuerURL("https://registry.test"), issuer.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.subs = events.NewSubscriptions(f.st, true, events.WithSubscriptionsClock(f.clock.Now))
	f.rec = events.NewRecorder(f.st, "https://registry.test", events.WithSubscriptions(f.subs))
	f.owner = events.Owner{ID: "alice", Bindings: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{"*"}}}}
	return f
}

func (f *deliveryFixture) subscribe(t *testing.T, sink string) string {
	t.Helper()
	v, err := f.subs.Create(t.Context(), f.owner, events.SubscriptionRequest{Sink: sink, Types: []string{"push"}, Repositories: []string{"acme/*"}})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func (f *deliveryFixture) push(t *testing.T, n int) {
	t.Helper()
	m := manifest("acme/app", strings.Repeat("x", n))
	if _, err := f.st.PutManifest(t.Context(), m, "v1", f.rec.Push(events.Data{Repository: "acme/app", Tag: "v1",
		Digest: m.Digest.String(), Type: events.KindManifest, Method: "PUT", When: f.clock.Now()})); err != nil {
		t.Fatal(err)
	}
}

func (f *deliveryFixture) run(t *testing.T, opts ...events.DispatcherOption) {
	d := events.NewDispatcher(f.st, f.iss, http.DefaultTransport.(*http.Transport).Clone(),
		append([]events.DispatcherOption{events.WithDispatchClock(f.clock.Now), events.WithPollInterval(10 * time.Millisecond)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func health(t *testing.T, st *sqlite.Store, id string) store.SubscriptionHealth {
	h, err := st.SubscriptionHealth(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDeliveryRetriesUntilDelivered(t *testing.T) {
	f := newDeliveryFixture(t)
	s := newSink(t, f.iss, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	id := f.subscribe(t, s.url())
	f.push(t, 1)
	f.run(t)
	waitUntil(t, "the first attempt", func() bool { return s.calls.Load() >= 1 })
	waitUntil(t, "the failure recorded", func() bool { return health(t, f.st, id).LastError != "" })
	if h := health(t, f.st, id); h.Pending != 1 || !strings.Contains(h.LastError, "500") {
		t.Fatalf("health after a 500 = %+v, want it pending with the error", h)
	}
	// Backoff: nothing more until the clock passes the retry (at most 2 s
	// after 1 failure, 4 s after 2).
	for i := range 2 {
		n := s.calls.Load()
		f.clock.Advance(5 * time.Second)
		waitUntil(t, "a retry", func() bool { return s.calls.Load() > n })
		if i == 0 {
			// The clock must not move before this failure is recorded: its
			// retry is due a backoff after the time it was recorded at.
			waitUntil(t, "the retry's failure recorded", func() bool { return health(t, f.st, id).LastErrorAt.Equal(f.clock.Now().UTC()) })
		}
	}
	waitUntil(t, "the delivery", func() bool { return len(s.delivered()) == 1 })
	waitUntil(t, "the success recorded", func() bool { return health(t, f.st, id).Pending == 0 })
	log, _ := f.st.EventsAfter(t.Context(), 0, 10)
	if s.delivered()[0] != log[0].ID {
		t.Errorf("delivered ce-id %s, want the event's id %s (the same on every attempt)", s.delivered()[0], log[0].ID)
	}
}

func TestDeliveryGoneDisables(t *testing.T) {
	f := newDeliveryFixture(t)
	s := newSink(t, f.iss, func(int) int { return http.StatusGone })
	id := f.subscribe(t, s.url())
	f.push(t, 1)
	f.run(t)
	waitUntil(t, "the subscription disabled", func() bool {
		sub, err := f.st.GetSubscription(context.Background(), id)
		return err == nil && !sub.Disabled.IsZero()
	})
	// Once the recorder's set is read again, a disabled subscription
	// matches nothing.
	if err := f.subs.Refresh(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	f.push(t, 2)
	time.Sleep(100 * time.Millisecond)
	if n := s.calls.Load(); n != 1 {
		t.Errorf("%d calls to a sink that answered 410, want 1", n)
	}
	if h := health(t, f.st, id); h.Failed != 1 || h.Pending != 0 {
		t.Errorf("health = %+v, want the one delivery failed", h)
	}
}

func TestDeliveryGivesUpAfterRetryFor(t *testing.T) {
	f := newDeliveryFixture(t)
	s := newSink(t, f.iss, func(int) int { return http.StatusServiceUnavailable })
	id := f.subscribe(t, s.url())
	f.push(t, 1)
	f.run(t, events.WithRetryFor(time.Minute))
	waitUntil(t, "the first attempt", func() bool { return health(t, f.st, id).LastError != "" })
	f.clock.Advance(2 * time.Minute)
	waitUntil(t, "the delivery given up", func() bool { return health(t, f.st, id).Failed == 1 })
	if h := health(t, f.st, id); !strings.Contains(h.LastError, "retry_for") {
		t.Errorf("last error %q does not say why it gave up", h.LastError)
	}
}

func TestSlowSinkDelaysNoOther(t *testing.T) {
	f := newDeliveryFixture(t)
	slow := newSink(t, f.iss, func(int) int { return http.StatusOK })
	slow.delay = 3 * time.Second
	fast := newSink(t, f.iss, func(int) int { return http.StatusOK })
	f.subscribe(t, slow.url())
	f.subscribe(t, fast.url())
	for i := range 3 {
		f.push(t, i+1)
	}
	start := time.Now()
	f.run(t)
	waitUntil(t, "the fast sink's three events", func() bool { return len(fast.delivered()) == 3 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the fast sink got its events after %v, behind the slow one", d)
	}
}

// TestDeliveryRefusesInternalAddressesAtDial: a sink whose name resolves,
// when dialled, to loopback is never posted to, whatever was checked when
// it was created ("localhost" stands for a public name re-pointed inward:
// the creation check refuses it, the dialer must too).
func TestDeliveryRefusesInternalAddressesAtDial(t *testing.T) {
	f := newDeliveryFixture(t)
	s := newSink(t, f.iss, func(int) int { return http.StatusOK })
	_, port, _ := strings.Cut(strings.TrimPrefix(s.srv.URL, "http://"), ":")
	sinkURL := "http://localhost:" + port + "/hook"
	id := f.subscribe(t, sinkURL)
	f.push(t, 1)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	d := events.NewDispatcher(f.st, f.iss, egress.PublicOnly(tr),
		events.WithDispatchClock(f.clock.Now), events.WithPollInterval(10*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "the refused attempt recorded", func() bool { return health(t, f.st, id).LastError != "" })
	if n := s.calls.Load(); n != 0 {
		t.Errorf("the sink was posted to %d times through a name resolving to loopback", n)
	}
	if h := health(t, f.st, id); !strings.Contains(h.LastError, "public") {
		t.Errorf("last error %q does not say the address is not public", h.LastError)
	}
}

// TestDeliveryHonoursRetryAfter: a sink that answers 429 with Retry-After
// is not tried again before it asked.
func TestDeliveryHonoursRetryAfter(t *testing.T) {
	f := newDeliveryFixture(t)
	var busy atomic.Bool
	busy.Store(true)
	s := newSink(t, f.iss, func(int) int {
		if busy.Load() {
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	s.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if busy.Load() {
			w.Header().Set("Retry-After", "30")
		}
		s.serve(w, r)
	})
	id := f.subscribe(t, s.url())
	f.push(t, 1)
	f.run(t)
	waitUntil(t, "the 429 recorded", func() bool { return health(t, f.st, id).LastError != "" })
	busy.Store(false)
	f.clock.Advance(20 * time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d calls 20s after a 429 with Retry-After: 30, want 1", n)
	}
	f.clock.Advance(11 * time.Second)
	waitUntil(t, "the delivery after Retry-After", func() bool { return len(s.delivered()) == 1 })
}

// TestDeliveryYieldsWhileBusy: while the server is busy, a worker pauses
// after each batch for yieldFactor times as long as it took; while idle,
// never. Every event is delivered either way.
func TestDeliveryYieldsWhileBusy(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(fmt.Sprint("busy=", busy), func(t *testing.T) {
			f := newDeliveryFixture(t)
			s := newSink(t, f.iss, func(int) int { return http.StatusNoContent })
			f.subscribe(t, s.url())
			for i := range 70 { // three batches of at most 32
				f.push(t, i+1)
			}
			var mu sync.Mutex
			var pauses []time.Duration
			f.run(t, events.WithYield(func() bool { return busy }), events.WithPause(func(_ context.Context, d time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				pauses = append(pauses, d)
			}))
			waitUntil(t, "every delivery", func() bool { return len(s.delivered()) == 70 })
			waitUntil(t, "the last batch finished", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return !busy || len(pauses) >= 3
			})
			mu.Lock()
			defer mu.Unlock()
			if !busy {
				if len(pauses) != 0 {
					t.Fatalf("an idle server's worker paused %v", pauses)
				}
				return
			}
			if len(pauses) != 3 {
				t.Fatalf("a busy server's worker paused %d times, want once after each of 3 batches", len(pauses))
			}
			for _, p := range pauses {
				if p <= 0 {
					t.Errorf("pause of %v after a batch, want three times as long as the batch took", p)
				}
			}
		})
	}
}
