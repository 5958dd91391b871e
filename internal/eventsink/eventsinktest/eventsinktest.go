// Package eventsinktest plays the registry's side of event deliveries for
// tests of receivers: an OIDC issuer on httptest (discovery document and
// JWKS) with ES256 keys, and deliveries signed as the registry signs them.
package eventsinktest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/events"
)

// Key is an ES256 signing key and its kid.
type Key struct {
	ID      string
	Private *ecdsa.PrivateKey
}

// NewKey returns a new P-256 key named id.
func NewKey(t testing.TB, id string) *Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: id, Private: k}
}

// Issuer is a registry's issuer: its URL serves the discovery document
// and the JWKS of its published keys, and it signs with the newest.
type Issuer struct {
	// URL is the issuer, and the registry's URL: http://127.0.0.1:PORT.
	URL string

	mu        sync.Mutex
	keys      []*Key
	discovery int
	jwks      int
}

// NewIssuer starts an issuer with one key, "key-1", stopped when t ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{keys: []*Key{NewKey(t, "key-1")}}
	srv := httptest.NewServer(http.HandlerFunc(i.serve))
	t.Cleanup(srv.Close)
	i.URL = srv.URL
	return i
}

func (i *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var doc any
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		i.discovery++
		doc = map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		}
	case "/.well-known/jwks.json":
		i.jwks++
		var set jose.JSONWebKeySet
		for _, k := range i.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: "ES256", Use: "sig"})
		}
		doc = set
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// Publish adds k to the JWKS; it signs from then on.
func (i *Issuer) Publish(k *Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = append(i.keys, k)
}

// Fetches is how many times the discovery document and the JWKS were
// fetched.
func (i *Issuer) Fetches() (discovery, jwks int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.discovery, i.jwks
}

// SigningKey is the newest published key.
func (i *Issuer) SigningKey() *Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[len(i.keys)-1]
}

// Claims are a delivery token's claims.
type Claims struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  jwt.Audience     `json:"aud,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	Expiry    *jwt.NumericDate `json:"exp,omitempty"`
	ID        string           `json:"jti,omitempty"`
	Digest    string           `json:"digest,omitempty"`
	Event     *EventRef        `json:"ce,omitempty"`
}

// EventRef is the "ce" claim: the id and type of the event delivered.
type EventRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Digest is the "digest" claim of body: sha256:<hex>.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Sign returns c signed ES256 by k, with kid and typ "JWT" in the header.
func Sign(t testing.TB, k *Key, c Claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.ID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.Private}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Delivery is one delivery as the registry makes it. Tests change its
// fields to make it wrong.
type Delivery struct {
	Sink   string
	Header http.Header // ce-* and Content-Type
	Body   []byte
	Claims Claims
	// Token is Claims signed by the issuer's signing key.
	Token string
}

// Delivery returns a delivery to sink of an event of type typ
// (events.TypePush or events.TypePull) with data d, for subscription
// sub-aaaaaaaaaaaaaaaaaaaa, signed at now by the issuer's signing key and
// valid five minutes.
func (i *Issuer) Delivery(t testing.TB, sink, typ string, d events.Data, now time.Time) *Delivery {
	t.Helper()
	del := Unsigned(t, i.URL, sink, typ, d, now)
	del.Token = Sign(t, i.SigningKey(), del.Claims)
	return del
}

// Unsigned is Delivery from the registry whose issuer (and event source)
// is issuer, without a token: Claims are set, Token is "".
func Unsigned(t testing.TB, issuer, sink, typ string, d events.Data, now time.Time) *Delivery {
	t.Helper()
	body, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	subject := d.Repository
	switch {
	case d.Tag != "":
		subject += ":" + d.Tag
	case d.Digest != "":
		subject += "@" + d.Digest
	}
	h := http.Header{}
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", "0123456789abcdef0123456789abcdef")
	h.Set("Ce-Source", issuer)
	h.Set("Ce-Type", typ)
	h.Set("Ce-Subject", subject)
	h.Set("Ce-Time", d.When.UTC().Format(time.RFC3339Nano))
	h.Set("Content-Type", "application/json")
	c := Claims{
		Issuer: issuer, Subject: "subscription:sub-aaaaaaaaaaaaaaaaaaaa", Audience: jwt.Audience{sink},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID: "delivery-1", Digest: Digest(body),
		Event: &EventRef{ID: h.Get("Ce-Id"), Type: typ},
	}
	return &Delivery{Sink: sink, Header: h, Body: body, Claims: c}
}

// Request is the delivery as an HTTP request to its sink.
func (d *Delivery) Request(t testing.TB) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, d.Sink, bytes.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = d.Header.Clone()
	if d.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.Token)
	}
	return req
}

// PushData is the data of a push of acme/app:v1 by alice at when.
func PushData(when time.Time) events.Data {
	return events.Data{
		Repository: "acme/app", Tag: "v1", Digest: "sha256:" + hex.EncodeToString(make([]byte, 32)),
		MediaType: "application/vnd.oci.image.manifest.v1+json", Type: events.KindManifest, Method: http.MethodPut,
		When: when.UTC(), RemoteAddr: "192.0.2.7", UserAgent: "crane/0.20",
		Actor: events.Actor{Identities: []string{"alice"}, Issuer: "https://idp.example.com", Subject: "alice@example.com"},
	}
}
