package eventsink_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink"
	"github.com/chainctl/chainctl/internal/eventsink/eventsinktest"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/store"
)

// memKeys is an in-memory issuer.KeyStore.
type memKeys struct {
	mu   sync.Mutex
	keys []store.SigningKey
}

func (m *memKeys) PutSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k.Created.IsZero() {
		k.Created = time.Now()
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) SigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

func (m *memKeys) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == id && m.keys[i].Retired.IsZero() {
			m.keys[i].Retired = at
		}
	}
	return nil
}

func (m *memKeys) DeleteSigningKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k store.SigningKey) bool { return k.ID == id })
	return nil
}

// TestRegistryIssuer: a token the registry's own issuer signs, as the
// delivery worker signs it, verifies; the same token over another body
// does not.
func TestRegistryIssuer(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	iss, err := issuer.New(t.Context(), &memKeys{}, issuer.WithIssuerURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	h = iss.Handler()

	now := time.Now()
	// The delivery's headers and body, from the fake; its token, from the
	// registry's issuer.
	d := eventsinktest.Unsigned(t, srv.URL, sink, events.TypePush, eventsinktest.PushData(now), now)
	d.Token, err = iss.Sign(t.Context(), issuer.Claims{
		Subject: "subscription:sub-aaaaaaaaaaaaaaaaaaaa", Audience: []string{sink},
		Expiry: now.Add(5 * time.Minute), Digest: eventsinktest.Digest(d.Body),
		Event: &issuer.EventRef{ID: d.Header.Get("Ce-Id"), Type: events.TypePush},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := eventsink.New(srv.URL, sink)
	if err != nil {
		t.Fatal(err)
	}
	r := d.Request(t)
	body, _ := io.ReadAll(r.Body)
	ev, err := v.Verify(r, body)
	if err != nil {
		t.Fatalf("Verify() of the registry issuer's token = %v", err)
	}
	if ev.Source() != srv.URL || v.Issuer() != srv.URL {
		t.Errorf("event source %q, issuer %q, want %q", ev.Source(), v.Issuer(), srv.URL)
	}

	var data events.Data
	_ = json.Unmarshal(body, &data)
	data.Tag = "v2"
	d.Body, _ = json.Marshal(data)
	d.Header.Set("Ce-Subject", "acme/app:v2")
	r = d.Request(t)
	if _, err := v.Verify(r, d.Body); err == nil || err.Error() != "body does not match the token's digest" {
		t.Errorf("Verify() of another body = %v, want the digest refused", err)
	}
}
