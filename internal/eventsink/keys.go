package eventsink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of what the registry's documents may hold.
const (
	maxDocument  = 1 << 20
	maxKeys      = 100
	maxRedirects = 3
)

// discoveryPath is where an issuer's discovery document is (OpenID
// Connect Discovery 1.0 section 4).
const discoveryPath = "/.well-known/openid-configuration"

// keySet is what a fetch learns: the issuer and its ES256 keys by kid.
type keySet struct {
	issuer string
	keys   map[string]*ecdsa.PublicKey
}

// keyCache holds the last key set fetched, and makes sure at most one
// fetch runs at a time.
type keyCache struct {
	mu        sync.Mutex
	set       *keySet
	attempted bool
	lastErr   error         // of the last fetch; nil after a success
	inflight  chan struct{} // closed when the running fetch ends
	nextFetch time.Time     // no fetch for an unknown kid starts before
}

// Discover fetches the registry's discovery document and keys now,
// whatever the refetch interval, and returns what went wrong (wrapping
// ErrUnavailable). Verify fetches them itself when needed; Discover lets a
// sink fail at start rather than at its first delivery.
func (v *Verifier) Discover(ctx context.Context) error {
	_, err := v.fetchShared(ctx)
	return err
}

// key returns the key set and the key named kid, fetching the keys when
// there are none yet or kid is not among them, unless a fetch started
// less than the refetch interval ago.
func (v *Verifier) key(ctx context.Context, kid string) (*keySet, *ecdsa.PublicKey, error) {
	c := &v.keys
	c.mu.Lock()
	set, lastErr := c.set, c.lastErr
	if set != nil {
		if k := set.keys[kid]; k != nil {
			c.mu.Unlock()
			return set, k, nil
		}
	}
	limited := c.inflight == nil && c.attempted && v.now().Before(c.nextFetch)
	c.mu.Unlock()
	if limited {
		if lastErr != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, lastErr)
		}
		if set == nil {
			return nil, nil, fmt.Errorf("%w: not fetched yet", ErrUnavailable)
		}
		v.log.DebugContext(ctx, "unknown key id; refetch rate-limited", "kid", kid)
		return nil, nil, unauthorized("unknown key id")
	}
	set, err := v.fetchShared(ctx)
	if err != nil {
		return nil, nil, err
	}
	if k := set.keys[kid]; k != nil {
		return set, k, nil
	}
	return nil, nil, unauthorized("unknown key id")
}

// fetchShared fetches the key set, or waits for the fetch already
// running, and returns the outcome.
func (v *Verifier) fetchShared(ctx context.Context) (*keySet, error) {
	c := &v.keys
	c.mu.Lock()
	if ch := c.inflight; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.lastErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, c.lastErr)
		}
		return c.set, nil
	}
	ch := make(chan struct{})
	c.inflight, c.attempted = ch, true
	c.nextFetch = v.now().Add(v.refetch)
	c.mu.Unlock()

	// The fetch serves every waiter: it must not end with this caller's
	// request, only with its own timeout.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultFetchTimeout)
	set, err := v.fetch(fctx)
	cancel()

	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight = nil
	close(ch)
	if err != nil {
		v.log.WarnContext(ctx, "fetching the registry's keys failed", "registry", v.registry, "error", err)
		c.lastErr = err
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	v.log.DebugContext(ctx, "fetched the registry's keys", "issuer", set.issuer, "keys", len(set.keys))
	c.set, c.lastErr = set, nil
	return set, nil
}

// fetch reads the discovery document, then the JWKS it names.
func (v *Verifier) fetch(ctx context.Context) (*keySet, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, v.registry+discoveryPath, &doc); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	if iss, err := url.Parse(doc.Issuer); err != nil || doc.Issuer == "" || iss.Host == "" {
		return nil, fmt.Errorf("discovery document of %s: no valid issuer", v.registry)
	}
	ju, err := url.Parse(doc.JWKSURI)
	if err != nil || doc.JWKSURI == "" || ju.Host == "" {
		return nil, fmt.Errorf("discovery document of %s: no valid jwks_uri", v.registry)
	}
	if err := checkFetchURL(ju); err != nil {
		return nil, fmt.Errorf("discovery document of %s: jwks_uri %q: %w", v.registry, doc.JWKSURI, err)
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, ju.String(), &jwks); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if len(jwks.Keys) > maxKeys {
		return nil, fmt.Errorf("keys of %s: %d keys, more than %d", doc.Issuer, len(jwks.Keys), maxKeys)
	}
	set := &keySet{issuer: doc.Issuer, keys: make(map[string]*ecdsa.PublicKey)}
	for _, raw := range jwks.Keys {
		// Keys that do not parse, or cannot verify ES256, are skipped:
		// one exotic key does not spoil the set.
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || !k.Valid() || !k.IsPublic() || k.KeyID == "" ||
			(k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(jose.ES256)) {
			continue
		}
		if pub, ok := k.Key.(*ecdsa.PublicKey); ok && pub.Curve == elliptic.P256() {
			set.keys[k.KeyID] = pub
		}
	}
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("keys of %s: no ES256 key", doc.Issuer)
	}
	return set, nil
}

// getJSON fetches u and decodes its JSON body, at most maxDocument bytes.
func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(b) > maxDocument {
		return fmt.Errorf("GET %s: larger than %d bytes", u, maxDocument)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("GET %s: not JSON", u)
	}
	return nil
}

// checkFetchURL allows https, and plain http only to a loopback host
// (a registry in --dev on this machine): elsewhere, whoever is on the path
// could hand out their own keys.
func checkFetchURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("plain http is only allowed to a loopback host; use https")
	}
	return errors.New("want an http(s) URL")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin follows a few redirects within the same scheme and host.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("more than %d redirects", maxRedirects)
	}
	from := via[0].URL
	if req.URL.Scheme != from.Scheme || !strings.EqualFold(req.URL.Host, from.Host) {
		return fmt.Errorf("redirect from %s://%s to %s://%s refused", from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}
