package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fakeEvents stands in for chainctl's event subscriptions behind
// fakeTokenAuth: /api/v1/subscriptions with a session token, and a
// delivery, in CloudEvents binary mode, to every subscription an event
// matches, of every manifest GET or HEAD (a pull), and manifest PUT or
// blob upload completion (a push), that the registry answered with
// success. Each subscription has a goroutine that delivers its events in
// order, once each: a sink that fails loses them (chainctl would retry).
type fakeEvents struct {
	hc *http.Client

	mu   sync.Mutex
	subs map[string]*fakeSubscription
	n    int
}

type fakeSubscription struct {
	id, sink, typ, repo string

	mu       sync.Mutex
	queue    []fakeEvent
	inFlight int
	wake     chan struct{} // buffered: one pending wake-up is enough
	stop     chan struct{}
}

type fakeEvent struct {
	id, typ, repo, digest string
	when                  time.Time
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{hc: &http.Client{Timeout: 5 * time.Second}, subs: map[string]*fakeSubscription{}}
}

// live returns how many subscriptions exist.
func (f *fakeEvents) live() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// serve answers /api/v1/subscriptions[/{id}]; session reports whether a
// bearer token is a session token.
func (f *fakeEvents) serve(w http.ResponseWriter, r *http.Request, session func(string) bool) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !session(tok) {
		writeFakeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/api/v1/subscriptions"), "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == "" {
		var req subscriptionRequest
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil || !strings.HasPrefix(req.Sink, "http://127.0.0.1:") ||
			len(req.Types) != 1 || req.Types[0] != "push" && req.Types[0] != "pull" || len(req.Repositories) != 1 {
			writeFakeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid"})
			return
		}
		f.n++
		s := &fakeSubscription{id: fmt.Sprintf("sub-%d", f.n), sink: req.Sink, typ: "dev.chainctl.registry." + req.Types[0] + ".v1",
			repo: req.Repositories[0], wake: make(chan struct{}, 1), stop: make(chan struct{})}
		f.subs[s.id] = s
		go s.deliver(f.hc)
		writeFakeJSON(w, http.StatusCreated, map[string]any{"id": s.id, "sink": s.sink})
		return
	}
	s, ok := f.subs[id]
	switch {
	case !ok:
		writeFakeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
	case r.Method == http.MethodGet:
		writeFakeJSON(w, http.StatusOK, map[string]any{"id": id, "health": map[string]any{"pending": s.pending()}})
	case r.Method == http.MethodDelete:
		close(s.stop)
		delete(f.subs, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeFakeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid"})
	}
}

// serveRegistry serves a /v2/ request of repo with next and records its
// event, if it is one.
func (f *fakeEvents) serveRegistry(next http.Handler, w http.ResponseWriter, r *http.Request, repo string) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	var typ, digest string
	manifest := strings.Contains(r.URL.Path, "/manifests/")
	switch {
	case manifest && (r.Method == http.MethodGet || r.Method == http.MethodHead) && rec.status == http.StatusOK:
		typ, digest = eventTypePull, rec.Header().Get("Docker-Content-Digest")
	case manifest && r.Method == http.MethodPut && rec.status == http.StatusCreated:
		typ, digest = eventTypePush, rec.Header().Get("Docker-Content-Digest")
	case strings.Contains(r.URL.Path, "/blobs/uploads/") && r.Method == http.MethodPut && rec.status == http.StatusCreated:
		typ, digest = eventTypePush, r.URL.Query().Get("digest")
	default:
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	e := fakeEvent{id: fmt.Sprintf("ev-%d", f.n), typ: typ, repo: repo, digest: digest, when: time.Now()}
	for _, s := range f.subs {
		if s.typ == typ && s.repo == repo {
			s.mu.Lock()
			s.queue = append(s.queue, e)
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (s *fakeSubscription) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) + s.inFlight
}

// deliver posts the subscription's events until it is deleted.
func (s *fakeSubscription) deliver(hc *http.Client) {
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		}
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			e := s.queue[0]
			s.queue, s.inFlight = s.queue[1:], 1
			s.mu.Unlock()
			s.post(hc, e)
			s.mu.Lock()
			s.inFlight = 0
			s.mu.Unlock()
		}
	}
}

func (s *fakeSubscription) post(hc *http.Client, e fakeEvent) {
	body, _ := json.Marshal(map[string]any{"repository": e.repo, "digest": e.digest, "when": e.when})
	req, err := http.NewRequest(http.MethodPost, s.sink, bytes.NewReader(body))
	if err != nil {
		return
	}
	for k, v := range map[string]string{
		"ce-specversion": "1.0", "ce-id": e.id, "ce-source": "http://fake.registry.test", "ce-type": e.typ,
		"ce-subject": e.repo + "@" + e.digest, "ce-time": e.when.Format(time.RFC3339Nano),
		"Content-Type": "application/json", "Authorization": "Bearer fake-delivery-token",
	} {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}
