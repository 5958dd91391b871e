package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// errNotPublic is why a request for a PublicOnly issuer was refused.
var errNotPublic = errors.New("refusing to connect to a non-public address")

// nonPublicPrefixes returns the special-purpose ranges (RFC 6890 and
// successors) that netip's IsGlobalUnicast and IsPrivate do not already
// exclude, and the IPv6 ranges that embed an IPv4 address which could be
// private. (A function, not a shared slice: it runs once per connection to
// an issuer, which is rare.)
func nonPublicPrefixes() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
		netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT; some cloud metadata services)
		netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
		netip.MustParsePrefix("192.0.2.0/24"),    // documentation
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
		netip.MustParsePrefix("198.51.100.0/24"), // documentation
		netip.MustParsePrefix("203.0.113.0/24"),  // documentation
		netip.MustParsePrefix("240.0.0.0/4"),     // reserved
		netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (embeds IPv4)
		netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
		netip.MustParsePrefix("100::/64"),        // discard-only
		netip.MustParsePrefix("2001:db8::/32"),   // documentation
		netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds IPv4)
		netip.MustParsePrefix("fec0::/10"),       // site-local, deprecated
	}
}

// isPublicAddr reports whether a is an address on the public internet:
// not loopback, private, link-local (169.254.169.254, the cloud metadata
// address, is link-local), multicast, unspecified or special-purpose.
func isPublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublicPrefixes() {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// refuseNonPublic is a net.Dialer Control function: it runs after the name
// is resolved, for each address the dialer is about to connect to, so it
// checks what is actually dialled, whatever DNS said when.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", errNotPublic, address)
	}
	if !isPublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", errNotPublic, ap.Addr().Unmap())
	}
	return nil
}

// resolver looks up the addresses of a host name.
type resolver func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// publicOnly sends requests for PublicOnly issuers. Without a proxy for a
// request, it connects directly, and its dialer refuses every non-public
// address after resolution, at each connection. Through a proxy (an
// operator's egress proxy, from HTTPS_PROXY), the proxy makes the
// connection, so the target's name is resolved here first and refused
// unless every address is public; the proxy resolves it again, so a DNS
// answer that changes in between is the one gap left.
type publicOnly struct {
	proxy   func(*http.Request) (*url.URL, error) // nil: never a proxy
	direct  *http.Transport                       // no proxy; dials public addresses only
	proxied *http.Transport                       // only ever dials the proxy
	resolve resolver
}

// publicOnlyTransport returns a RoundTripper like rt that reaches public
// addresses only (see publicOnly). A RoundTripper that is not an
// *http.Transport cannot be restricted, so requests through the result
// fail.
func publicOnlyTransport(rt http.RoundTripper, resolve resolver) http.RoundTripper {
	t, ok := rt.(*http.Transport)
	if !ok {
		return refusingTransport{}
	}
	p := &publicOnly{proxy: t.Proxy, resolve: resolve}
	p.direct = t.Clone()
	p.direct.Proxy = nil
	p.direct.DialTLSContext = nil
	p.direct.DialContext = (&net.Dialer{
		Timeout:   defaultFetchTimeout,
		KeepAlive: 30 * time.Second,
		Control:   refuseNonPublic,
	}).DialContext
	if p.proxy != nil {
		p.proxied = t.Clone()
		p.proxied.Proxy = func(req *http.Request) (*url.URL, error) {
			u, err := p.proxy(req)
			if err == nil && u == nil {
				// RoundTrip chose this transport because there was a
				// proxy; never fall back to an unchecked direct dial.
				return nil, fmt.Errorf("%w: no proxy for %s", errNotPublic, req.URL.Host)
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
		if !isPublicAddr(a) {
			return fmt.Errorf("%w: %s resolves to %s", errNotPublic, host, a.Unmap())
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
	return nil, fmt.Errorf("%w: the configured transport cannot be restricted to public addresses", errNotPublic)
}
