package upstream

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errNotPublic is why a connection for a PublicOnly issuer was refused.
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

// publicOnlyTransport returns a copy of rt that connects directly (no
// proxy: a proxy would connect wherever it was asked) and only to public
// addresses. A RoundTripper that is not an *http.Transport cannot be
// restricted, so requests through the result fail.
func publicOnlyTransport(rt http.RoundTripper) http.RoundTripper {
	t, ok := rt.(*http.Transport)
	if !ok {
		return refusingTransport{}
	}
	t = t.Clone()
	t.Proxy = nil
	t.DialTLSContext = nil
	t.DialContext = (&net.Dialer{
		Timeout:   defaultFetchTimeout,
		KeepAlive: 30 * time.Second,
		Control:   refuseNonPublic,
	}).DialContext
	return t
}

// refusingTransport answers every request with an error.
type refusingTransport struct{}

func (refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return nil, fmt.Errorf("%w: the configured transport cannot be restricted to public addresses", errNotPublic)
}
