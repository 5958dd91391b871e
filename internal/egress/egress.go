// Package egress guards the connections the server makes to URLs that
// someone other than the operator chose: an OIDC issuer named by an
// identity created through the API, an event sink's webhook. Owning a
// repository must never let someone point the server at its internal
// network, so such URLs may reach public addresses only, never loopback,
// private, link-local (169.254.169.254, the cloud metadata address),
// CGNAT (100.100.100.200, another metadata address) or other
// special-purpose addresses.
//
// The guard works in two places. CheckURL is the static check made when a
// URL is registered: its scheme, and a host that is a loopback name or a
// literal non-public address. It cannot see where a host name resolves, or
// will resolve later, so PublicOnly wraps the transport that makes the
// requests: it checks each address actually dialled, after resolution, and
// behind an egress proxy checks the target's addresses before the proxy is
// asked to connect.
//
// Whether to guard at all is the caller's decision: URLs from the server's
// configuration, or a server configured to allow private destinations, use
// an ordinary transport and skip CheckURL.
package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrNotPublic is wrapped by every error that refuses a destination
// because it is, or resolves to, a non-public address, whether found by
// CheckURL, by PublicOnly's resolution or at dial time.
var ErrNotPublic = errors.New("refusing to connect to a non-public address")

// nonPublicPrefixes returns the special-purpose ranges (RFC 6890 and
// successors) that netip's IsGlobalUnicast and IsPrivate do not already
// exclude, and the IPv6 ranges that embed an IPv4 address which could be
// private. (A function, not a shared slice: the package keeps no mutable
// state, and it runs once per connection, which is rare.)
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

// IsPublic reports whether a is an address on the public internet: not
// loopback, private (including IPv6 unique local addresses such as
// fd00:ec2::254), link-local (169.254.169.254, the cloud metadata address,
// is link-local), multicast, unspecified or special-purpose. An
// IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
func IsPublic(a netip.Addr) bool {
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

// RefuseNonPublic is a net.Dialer Control function: it runs after the name
// is resolved, for each address the dialer is about to connect to, so it
// checks what is actually dialled, whatever DNS said when. It returns an
// error wrapping ErrNotPublic for an address that is not IsPublic.
func RefuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", ErrNotPublic, address)
	}
	if !IsPublic(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotPublic, ap.Addr().Unmap())
	}
	return nil
}

// CheckURL is the static check for a URL registered to be fetched later
// through PublicOnly. It refuses a URL that does not parse, is not
// absolute, has no host, or whose scheme is not https (with requireHTTPS)
// or http or https (without). It refuses, wrapping ErrNotPublic, a host
// named localhost or *.localhost and a literal IP address that is not
// IsPublic. It also refuses a host whose last label is numeric, such as
// 127.1 or 2130706433: no DNS name ends so, and some resolvers read it as
// an IPv4 address. A host name is not resolved: where it points is checked
// when each connection is made.
//
// Errors name the URL and are meant to be shown to whoever registered it.
func CheckURL(raw string, requireHTTPS bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("url %q: %w", raw, err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && !requireHTTPS:
	case requireHTTPS:
		return fmt.Errorf("url %q: scheme must be https", raw)
	default:
		return fmt.Errorf("url %q: scheme must be http or https", raw)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return fmt.Errorf("url %q: no host", raw)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("url %q: %w: %s is a loopback name", raw, ErrNotPublic, host)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !IsPublic(a) {
			return fmt.Errorf("url %q: %w: %s", raw, ErrNotPublic, a.Unmap())
		}
		return nil
	}
	if numericLabel(host[strings.LastIndexByte(host, '.')+1:]) {
		return fmt.Errorf("url %q: host %s is neither a DNS name nor an IP address in standard form", raw, host)
	}
	return nil
}

// numericLabel reports whether s is a decimal, octal or hexadecimal
// number, as inet_aton reads the parts of an IPv4 address.
func numericLabel(s string) bool {
	digits := "0123456789"
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, digits = s[2:], "0123456789abcdefABCDEF"
	}
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune(digits, c) {
			return false
		}
	}
	return true
}
