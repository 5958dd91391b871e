package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// defaultDialTimeout bounds one connection attempt of PublicOnly's dialer
// unless WithDialTimeout says otherwise.
const defaultDialTimeout = 10 * time.Second

// Resolver looks up the addresses of a host name.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// Option configures PublicOnly.
type Option func(*options)

type options struct {
	resolve     Resolver
	dialTimeout time.Duration
}

// WithResolver sets how PublicOnly resolves a target's host name before
// asking a proxy to connect to it (default: net.DefaultResolver). Tests
// use it to make names resolve where they need. It does not affect direct
// connections, which the dialer resolves and checks itself.
func WithResolver(r Resolver) Option {
	return func(o *options) {
		if r != nil {
			o.resolve = r
		}
	}
}

// WithDialTimeout bounds each direct connection attempt (default 10 s).
func WithDialTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.dialTimeout = d
		}
	}
}

// publicOnly sends requests that may reach public addresses only. Without
// a proxy for a request, it connects directly, and its dialer refuses every
// non-public address after resolution, at each connection. Through a proxy
// (an operator's egress proxy, from HTTPS_PROXY), the proxy makes the
// connection, so the target's name is resolved here first and refused
// unless every address is public; the proxy resolves it again, so a DNS
// answer that changes in between is the one gap left.
type publicOnly struct {
	proxy   func(*http.Request) (*url.URL, error) // nil: never a proxy
	direct  *http.Transport                       // no proxy; dials public addresses only
	proxied *http.Transport                       // only ever dials the proxy
	resolve Resolver
}

// PublicOnly returns a RoundTripper like rt (its TLS configuration,
// timeouts, limits and proxy function) that reaches public addresses only:
// direct connections refuse every address that is not IsPublic when it is
// dialled, and a request through a proxy is refused unless its host is, or
// resolves only to, public addresses; the proxy itself may be anywhere.
// Refusals wrap ErrNotPublic, and no request is sent. A nil rt means
// http.DefaultTransport. A RoundTripper that is not an *http.Transport
// cannot be restricted, so every request through the result fails with
// ErrNotPublic. rt is not modified.
func PublicOnly(rt http.RoundTripper, opts ...Option) http.RoundTripper {
	o := options{resolve: defaultResolver, dialTimeout: defaultDialTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return refusingTransport{}
	}
	p := &publicOnly{proxy: t.Proxy, resolve: o.resolve}
	p.direct = t.Clone()
	p.direct.Proxy = nil
	p.direct.DialTLSContext = nil
	p.direct.DialContext = (&net.Dialer{
		Timeout:   o.dialTimeout,
		KeepAlive: 30 * time.Second,
		Control:   RefuseNonPublic,
	}).DialContext
	if p.proxy != nil {
		p.proxied = t.Clone()
		p.proxied.Proxy = func(req *http.Request) (*url.URL, error) {
			u, err := p.proxy(req)
			if err == nil && u == nil {
				// RoundTrip chose this transport because there was a
				// proxy; never fall back to an unchecked direct dial.
				return nil, fmt.Errorf("%w: no proxy for %s", ErrNotPublic, req.URL.Host)
			}
			return u, err
		}
	}
	return p
}

// RoundTrip implements http.RoundTripper.
func (p *publicOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if p.proxied != nil {
		u, err := p.proxy(req)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		if u != nil {
			if err := p.checkHost(req.Context(), req.URL.Hostname()); err != nil {
				closeBody(req)
				return nil, err
			}
			return p.proxied.RoundTrip(req)
		}
	}
	return p.direct.RoundTrip(req)
}

// checkHost refuses host unless it is, or resolves only to, public
// addresses.
func (p *publicOnly) checkHost(ctx context.Context, host string) error {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		if addrs, err = p.resolve(ctx, host); err != nil {
			return fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("resolve %s: no addresses", host)
	}
	for _, a := range addrs {
		if !IsPublic(a) {
			return fmt.Errorf("%w: %s resolves to %s", ErrNotPublic, host, a.Unmap())
		}
	}
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// refusingTransport answers every request with an error.
type refusingTransport struct{}

func (refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody(req)
	return nil, fmt.Errorf("%w: the configured transport cannot be restricted to public addresses", ErrNotPublic)
}
