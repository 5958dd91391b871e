package upstream

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/egress"
)

const (
	// maxResponseSize caps a discovery document or a JWKS. Real ones are a
	// few KiB (Google ~1 KiB, GitHub ~5 KiB).
	maxResponseSize = 1 << 20
	// maxResponseHeaderBytes caps response headers on the default transport.
	maxResponseHeaderBytes = 64 << 10
	maxRedirects           = 3
	maxKeys                = 100
	minRSABits             = 2048
)

// errRedirect is returned by checkRedirect and surfaces wrapped in a
// *url.Error from http.Client.Do.
var errRedirect = errors.New("redirect refused")

// defaultTransport is http.DefaultTransport with capped response headers.
func defaultTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxResponseHeaderBytes = maxResponseHeaderBytes
	t.ResponseHeaderTimeout = defaultFetchTimeout
	return t
}

// checkRedirect follows a few redirects within the same scheme and host and
// refuses the rest.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	}
	from := via[0].URL
	if req.URL.Scheme != from.Scheme || !strings.EqualFold(req.URL.Host, from.Host) {
		return fmt.Errorf("%w: %s://%s redirects to %s://%s", errRedirect, from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// discovery is the part of an OpenID Provider Metadata document we use.
type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// fetchKeys discovers the issuer's jwks_uri and fetches its usable keys.
// Errors wrap ErrIssuer or ErrUnavailable.
func (v *Verifier) fetchKeys(ctx context.Context, is Issuer) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, v.fetchTimeout)
	defer cancel()
	issuer, client := is.URL, v.client
	if is.PublicOnly {
		client = v.public
	}

	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	var doc discovery
	if err := v.getJSON(ctx, client, wellKnown, &doc); err != nil {
		return nil, fmt.Errorf("discovery for %q: %w", issuer, err)
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("%w: discovery for %q names issuer %q", ErrIssuer, issuer, doc.Issuer)
	}
	jwksURL, err := url.Parse(doc.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery for %q: jwks_uri: %w", ErrIssuer, issuer, err)
	}
	issURL, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer %q: %w", ErrIssuer, issuer, err)
	}
	// Plain http for the keys only when the issuer itself is on loopback:
	// an https issuer must not point the registry at its own loopback.
	if err := checkFetchURL(jwksURL, isLoopbackHost(issURL.Hostname())); err != nil {
		return nil, fmt.Errorf("%w: discovery for %q: jwks_uri %q: %w", ErrIssuer, issuer, doc.JWKSURI, err)
	}

	var raw json.RawMessage
	if err := v.getJSON(ctx, client, jwksURL.String(), &raw); err != nil {
		return nil, fmt.Errorf("keys of %q: %w", issuer, err)
	}
	keys, err := parseKeySet(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: keys of %q: %w", ErrIssuer, issuer, err)
	}
	return keys, nil
}

// getJSON fetches u and decodes its JSON body, at most maxResponseSize bytes,
// into dst. Errors wrap ErrIssuer or ErrUnavailable.
func (v *Verifier) getJSON(ctx context.Context, client *http.Client, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrIssuer, err)
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errRedirect) || errors.Is(err, egress.ErrNotPublic) {
			return fmt.Errorf("%w: %w", ErrIssuer, err)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	v.log.DebugContext(ctx, "fetched upstream issuer document", "url", u, "status", resp.StatusCode, "duration", time.Since(start))

	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("%w: GET %s: %s", ErrUnavailable, u, resp.Status)
	default:
		return fmt.Errorf("%w: GET %s: %s", ErrIssuer, u, resp.Status)
	}
	if resp.ContentLength > maxResponseSize {
		return fmt.Errorf("%w: GET %s: response of %d bytes exceeds %d", ErrIssuer, u, resp.ContentLength, maxResponseSize)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return fmt.Errorf("%w: GET %s: read: %w", ErrUnavailable, u, err)
	}
	if len(body) > maxResponseSize {
		return fmt.Errorf("%w: GET %s: response exceeds %d bytes", ErrIssuer, u, maxResponseSize)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("%w: GET %s: decode: %w", ErrIssuer, u, err)
	}
	return nil
}

// parseKeySet parses a JWKS and keeps the keys that can verify a token: public
// asymmetric signing keys of a supported type and strength. Keys that do not
// parse are skipped, so one exotic key does not spoil the set; a set with no
// usable key is an error.
func parseKeySet(data []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("decode key set: %w", err)
	}
	if len(set.Keys) > maxKeys {
		return nil, fmt.Errorf("key set has %d keys, more than %d", len(set.Keys), maxKeys)
	}
	var keys []jose.JSONWebKey
	for _, rk := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(rk); err != nil {
			continue
		}
		if usableKey(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("key set has no usable signing key")
	}
	return keys, nil
}

func usableKey(k jose.JSONWebKey) bool {
	if !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
		return false
	}
	if k.Algorithm != "" && !isAllowedAlgorithm(jose.SignatureAlgorithm(k.Algorithm)) {
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return key.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return key.Curve == elliptic.P256() || key.Curve == elliptic.P384()
	case ed25519.PublicKey:
		return true
	default:
		return false
	}
}
