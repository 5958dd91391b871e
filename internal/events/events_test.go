package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/principal"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store { return openStoreTB(t) }

func openStoreTB(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func manifest(repo, content string) *store.Manifest {
	b := []byte(`{"schemaVersion":2,"c":"` + content + `"}`)
	return &store.Manifest{Repository: repo, Digest: digest.FromBytes(b), MediaType: "application/vnd.oci.image.manifest.v1+json",
		Size: int64(len(b)), Content: b}
}

func decode(t *testing.T, e store.Event) events.Data {
	t.Helper()
	var d events.Data
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("event %s data %s: %v", e.ID, e.Data, err)
	}
	return d
}

func TestPushEventCommitsWithTheManifest(t *testing.T) {
	ctx := t.Context()
	s := openStore(t)
	rec := events.NewRecorder(s, "https://registry.example")
	at := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	first, second := manifest("acme/app", "1"), manifest("acme/app", "2")
	data := func(m *store.Manifest) events.Data {
		return events.Data{Repository: "acme/app", Tag: "v1", Digest: m.Digest.String(), MediaType: m.MediaType,
			Type: events.KindManifest, Method: "PUT", When: at, RemoteAddr: "192.0.2.1", UserAgent: "crane/0.22",
			Actor: events.ActorOf(principal.Principal{Identities: []principal.Identity{{ID: "ci", Incarnation: "i"}},
				Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/app:ref:refs/heads/main"})}
	}
	for _, m := range []*store.Manifest{first, second} {
		if _, err := s.PutManifest(ctx, m, "v1", rec.Push(data(m))); err != nil {
			t.Fatal(err)
		}
	}
	// A write that fails writes no event.
	bad := manifest("acme/app", "3")
	bad.Blobs = []digest.Digest{digest.FromString("missing")}
	if _, err := s.PutManifest(ctx, bad, "v1", rec.Push(data(bad))); !errors.Is(err, store.ErrBlobUnknown) {
		t.Fatalf("PutManifest with a missing blob = %v", err)
	}

	log, err := s.EventsAfter(ctx, 0, 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("event log = %d events, %v, want 2", len(log), err)
	}
	e := log[1]
	if e.Type != events.TypePush || e.Source != "https://registry.example" || e.Subject != "acme/app:v1" ||
		!e.Time.Equal(at) || e.Repository != "acme/app" || e.Failed || e.Actor != "identity:ci" || len(e.ID) != 32 {
		t.Errorf("push event = %+v", e)
	}
	if want := fmt.Sprintf("%012x", at.UnixMilli()); e.ID[:12] != want {
		t.Errorf("push event id %s does not begin with its time %s", e.ID, want)
	}
	d := decode(t, e)
	if d.Previous != first.Digest.String() || d.Digest != second.Digest.String() || d.Actor.Subject == "" || d.UserAgent != "crane/0.22" {
		t.Errorf("push data = %+v, want previous %s", d, first.Digest)
	}
	if p := decode(t, log[0]).Previous; p != "" {
		t.Errorf("first push's previous = %q, want none (a new tag)", p)
	}
}

// slowStore is an Appender that records batches and can fail.
type slowStore struct {
	mu      sync.Mutex
	batches [][]store.Event
	fail    int // fail this many calls first
}

func (s *slowStore) AppendEvents(_ context.Context, evs []store.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("database is down")
	}
	s.batches = append(s.batches, append([]store.Event(nil), evs...))
	return nil
}

func (s *slowStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.batches {
		n += len(b)
	}
	return n
}

func TestRecordBatchesAndFlushesAtShutdown(t *testing.T) {
	st := &slowStore{fail: 1}
	rec := events.NewRecorder(st, "https://r", events.WithBatching(time.Hour, 10, 100))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()
	// Each pull happened a minute before the one after it, the first
	// long before it is recorded: its id still begins with its own time.
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 25 {
		rec.Record(events.TypePull, events.Data{Repository: "acme/app", Tag: "v1", Type: events.KindManifest, Method: "GET",
			When: t0.Add(time.Duration(i) * time.Minute), Actor: events.Actor{PullToken: "pt-x"}, Error: map[bool]*events.Error{true: {Status: 404, Code: "MANIFEST_UNKNOWN"}}[i%5 == 0]})
	}
	// Full batches of 10 go at once (the first one fails and is kept);
	// the rest waits for the tick, or for shutdown.
	deadline := time.Now().Add(5 * time.Second)
	for st.count() < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := st.count(); n != 25 {
		t.Fatalf("%d events written, want all 25 (a failed batch retried, the rest flushed at shutdown)", n)
	}
	failed := 0
	for _, b := range st.batches {
		for _, e := range b {
			if e.Failed {
				failed++
			}
			if wantCode := map[bool]string{true: "MANIFEST_UNKNOWN"}[e.Failed]; e.ErrorCode != wantCode {
				t.Errorf("event's error code = %q, want %q", e.ErrorCode, wantCode)
			}
			if e.Actor != "pull-token:pt-x" || e.Subject != "acme/app:v1" {
				t.Errorf("event = %+v", e)
			}
			if want := fmt.Sprintf("%012x", e.Time.UnixMilli()); len(e.ID) != 32 || e.ID[:12] != want {
				t.Errorf("event id %s does not begin with its time %s", e.ID, want)
			}
		}
	}
	if failed != 5 || rec.Dropped() != 0 {
		t.Errorf("%d failed events, %d dropped; want 5 and 0", failed, rec.Dropped())
	}
}

func TestRecordNeverBlocks(t *testing.T) {
	rec := events.NewRecorder(&slowStore{}, "https://r", events.WithBatching(time.Hour, 10, 4))
	done := make(chan struct{})
	go func() {
		for range 10 {
			rec.Record(events.TypePull, events.Data{Repository: "a", Type: events.KindBlob, When: time.Now()})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked with nothing draining the queue")
	}
	if rec.Dropped() != 6 {
		t.Errorf("Dropped() = %d, want 6 of 10 past a queue of 4", rec.Dropped())
	}
}
