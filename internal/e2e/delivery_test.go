package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// receiver is a webhook as a subscriber writes one without chainctl: it
// fetches the registry's JWKS and checks each delivery's token (ES256,
// iss, aud = its own URL, exp, the body's digest).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	mu     sync.Mutex
	got    []delivered
}

type delivered struct {
	id, typ, subject string
	data             events.Data
}

func newReceiver(t *testing.T, issuer string) *receiver {
	r := &receiver{t: t, issuer: issuer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// newReceiverAt is newReceiver listening on addr.
func newReceiverAt(t *testing.T, issuer, addr string) *receiver {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, issuer: issuer}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hook" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	raw, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		r.t.Errorf("delivery token: %v", err)
		w.WriteHeader(401)
		return
	}
	resp, err := http.Get(r.issuer + "/.well-known/jwks.json")
	if err != nil {
		r.t.Error(err)
		w.WriteHeader(500)
		return
	}
	var keys jose.JSONWebKeySet
	_ = json.NewDecoder(resp.Body).Decode(&keys)
	resp.Body.Close()
	var std jwt.Claims
	var extra struct {
		Digest string `json:"digest"`
	}
	if err := tok.Claims(keys, &std, &extra); err != nil {
		r.t.Errorf("delivery signature: %v", err)
		w.WriteHeader(401)
		return
	}
	sum := sha256.Sum256(body)
	if err := std.Validate(jwt.Expected{Issuer: r.issuer, AnyAudience: jwt.Audience{r.url()}, Time: time.Now()}); err != nil ||
		extra.Digest != "sha256:"+hex.EncodeToString(sum[:]) || !strings.HasPrefix(std.Subject, "subscription:") {
		r.t.Errorf("delivery claims: %v, digest %s, subject %s", err, extra.Digest, std.Subject)
		w.WriteHeader(401)
		return
	}
	var d events.Data
	if err := json.Unmarshal(body, &d); err != nil {
		r.t.Errorf("delivery body %s: %v", body, err)
	}
	r.mu.Lock()
	r.got = append(r.got, delivered{id: req.Header.Get("Ce-Id"), typ: req.Header.Get("Ce-Type"), subject: req.Header.Get("Ce-Subject"), data: d})
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (r *receiver) events() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.got...)
}

// TestEventDelivery subscribes a receiver on loopback (--dev) to acme/*,
// pushes and pulls with go-containerregistry, and waits for the verified
// deliveries: the push with the tag's previous digest, the pull with its
// user agent, a failed pull; the subscription's health shows the success.
func TestEventDelivery(t *testing.T) {
	srv := startServer(t, "--dev")
	ctx := t.Context()
	session := exchangeSession(t, srv, srv.Token(t))
	recv := newReceiver(t, srv.URL())
	status, sub := apiCall(t, srv, "POST", "/api/v1/subscriptions", session, map[string]any{
		"sink": recv.url(), "types": []string{"push", "pull"}, "repositories": []string{"acme/*"}, "description": "e2e"})
	if status != http.StatusCreated {
		t.Fatalf("create subscription = %d %v", status, sub)
	}
	// Outside the dev loopback rule: refused at creation.
	if status, body := apiCall(t, srv, "POST", "/api/v1/subscriptions", session, map[string]any{
		"sink": "https://169.254.169.254/latest/meta-data", "repositories": []string{"acme/*"}}); status != http.StatusBadRequest {
		t.Errorf("a metadata-address sink = %d %v, want 400", status, body)
	}

	owner := &authn.Basic{Username: "e2e", Password: srv.Token(t)}
	ref := (&replicas{}).ref(t, srv, "acme/app:v1")
	first, second := mustRandomImage(t), mustRandomImage(t)
	if err := remote.Write(ref, first, remote.WithAuth(owner), remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, second, remote.WithAuth(owner), remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Image(ref, remote.WithAuth(owner), remote.WithContext(ctx), remote.WithUserAgent("e2e-puller")); err != nil {
		t.Fatal(err)
	}
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	deadline := time.Now().Add(15 * time.Second)
	var pushed, pulled bool
	for time.Now().Before(deadline) && !(pushed && pulled) {
		time.Sleep(100 * time.Millisecond)
		for _, e := range recv.events() {
			if e.typ == events.TypePush && e.data.Type == events.KindManifest && e.data.Digest == d2.String() {
				pushed = true
				if e.data.Previous != d1.String() || e.subject != "acme/app:v1" || e.data.Actor.Key() != "identity:e2e" {
					t.Errorf("push delivery = %+v", e)
				}
			}
			if e.typ == events.TypePull && strings.Contains(e.data.UserAgent, "e2e-puller") && e.data.Method == "GET" {
				pulled = true
			}
		}
	}
	if !pushed || !pulled {
		t.Fatalf("deliveries after 15s: push %v, pull %v (%d events)", pushed, pulled, len(recv.events()))
	}
	ids := map[string]bool{}
	for _, e := range recv.events() {
		if ids[e.id] {
			t.Errorf("event %s delivered twice", e.id)
		}
		ids[e.id] = true
	}
	_, got := apiCall(t, srv, "GET", "/api/v1/subscriptions/"+sub["id"].(string), session, nil)
	if h, _ := got["health"].(map[string]any); h == nil || h["last_success"] == nil {
		t.Errorf("subscription = %v, want a last success", got)
	}
}

// TestEventSurvivesKill: a push is committed while its subscriber is down,
// the registry is killed with SIGKILL before it could deliver, and after
// a restart the event is delivered, with the id it was recorded with.
func TestEventSurvivesKill(t *testing.T) {
	dataDir := t.TempDir()
	opts := serverOptions{ci: newCIIssuer(t), addr: freeAddr(t), args: []string{"--dev", "--data-dir", dataDir}}
	srv := startServerOpts(t, opts)
	session := exchangeSession(t, srv, srv.Token(t))
	sinkAddr := freeAddr(t) // nothing listens there yet
	sinkURL := "http://" + sinkAddr + "/hook"
	if status, body := apiCall(t, srv, "POST", "/api/v1/subscriptions", session, map[string]any{
		"sink": sinkURL, "types": []string{"push"}, "repositories": []string{"acme/*"}}); status != http.StatusCreated {
		t.Fatalf("create subscription = %d %v", status, body)
	}
	owner := &authn.Basic{Username: "e2e", Password: srv.Token(t)}
	img := mustRandomImage(t)
	if err := remote.Write((&replicas{}).ref(t, srv, "acme/app:v1"), img, remote.WithAuth(owner), remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
	dgst, _ := img.Digest()
	srv.kill(t)

	// The event, as committed with the push.
	db, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	log, err := db.EventsAfter(t.Context(), 0, 100)
	for _, e := range log {
		if e.Type == events.TypePush && e.Subject == "acme/app:v1" {
			id = e.ID
		}
	}
	db.Close()
	if err != nil || id == "" {
		t.Fatalf("no push event in the log after the kill (%v)", err)
	}

	recv := newReceiverAt(t, srv.URL(), sinkAddr)
	// Closed when the test returns, before the cleanups stop the server
	// started next: a delivery still arriving (the blobs' push events) must
	// find the registry's JWKS up, not a server shutting down.
	defer recv.srv.Close()
	startServerOpts(t, opts)
	deadline := time.Now().Add(30 * time.Second) // the first attempts failed: backoff
	for time.Now().Before(deadline) {
		for _, e := range recv.events() {
			if e.id == id {
				if e.data.Digest != dgst.String() {
					t.Errorf("delivered %+v, want digest %s", e.data, dgst)
				}
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the push event %s was not delivered within 30s of the restart; got %d events", id, len(recv.events()))
}

// TestEventDeliveryOnReplicas: two replicas on S3 + PostgreSQL share the
// deliveries: pushes and pulls through both are each delivered once.
func TestEventDeliveryOnReplicas(t *testing.T) {
	r := startReplicasWith(t, "events:\n  allow_private_sinks: true\n")
	session := exchangeSession(t, r.a, r.auth.(*authn.Basic).Password)
	recv := newReceiver(t, "http://"+r.service)
	if status, body := apiCall(t, r.a, "POST", "/api/v1/subscriptions", session, map[string]any{
		"sink": recv.url(), "types": []string{"push"}, "repositories": []string{"replica/*"}}); status != http.StatusCreated {
		t.Fatalf("create subscription = %d %v", status, body)
	}
	// Each replica matches events against the subscriptions it read at
	// most a second ago (events.SubscriptionRefresh): B takes this one
	// from then on.
	time.Sleep(events.SubscriptionRefresh + 200*time.Millisecond)
	want := map[string]bool{}
	for i := range 10 {
		srv := r.a
		if i%2 == 1 {
			srv = r.b
		}
		img := mustRandomImage(t)
		r.push(t, srv, fmt.Sprintf("replica/ev:v%d", i), img)
		d, _ := img.Digest()
		want[d.String()] = true
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		seen := map[string]int{}
		for _, e := range recv.events() {
			if e.data.Type == events.KindManifest {
				seen[e.data.Digest]++
			}
		}
		done := len(seen) == len(want)
		for d := range want {
			if seen[d] == 0 {
				done = false
			}
		}
		if done {
			for d, n := range seen {
				if n > 1 {
					t.Errorf("manifest %s delivered %d times", d, n)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s, %d of %d manifest pushes delivered", len(seen), len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
