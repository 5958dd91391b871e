package tokencache

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxNameLen leaves room for the longest suffix (a stored entry's) within
// the usual 255-byte file name limit.
const maxNameLen = 255 - len(storedSuffix)

// normalizeHost lower-cases host and checks that it is a registry
// host[:port]: DNS-style labels, an IPv4 address, or a bracketed IPv6
// address, with an optional port. Anything else (a URL, a path, "..", a
// zone, whitespace) is refused, so no input can name a file outside the
// cache directory. Callers turn a docker ServerURL into a host first.
func normalizeHost(host string) (string, error) {
	h := strings.ToLower(host)
	invalid := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidHost, host, why)
	}
	if h == "" {
		return invalid("empty")
	}
	var name, port string
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return invalid("unterminated IPv6 address")
		}
		addr, err := netip.ParseAddr(h[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return invalid("bad IPv6 address")
		}
		rest := h[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return invalid("junk after IPv6 address")
			}
			port = rest[1:]
			if port == "" {
				return invalid("empty port")
			}
		}
	} else {
		name = h
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			name, port = h[:i], h[i+1:]
			if port == "" {
				return invalid("empty port")
			}
		}
		if name == "" || len(name) > 253 {
			return invalid("host name must be 1 to 253 characters")
		}
		for label := range strings.SplitSeq(name, ".") {
			if label == "" || len(label) > 63 {
				return invalid("empty or over-long label")
			}
			for i := 0; i < len(label); i++ {
				c := label[i]
				if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
					return invalid(fmt.Sprintf("character %q not allowed", c))
				}
			}
		}
	}
	if port != "" {
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return invalid("port is not a number")
			}
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || len(port) > 5 {
			return invalid("port out of range")
		}
	}
	return h, nil
}

// fileName maps a host to the base name of its cache files. The mapping is
// reversible (List depends on it): bytes other than [a-z0-9.-] become
// "_xx" (hex), and the first character of a Windows device name (con,
// nul, com1, ...) is escaped too, so "127.0.0.1:5000" becomes
// "127.0.0.1_3a5000" and "[::1]:5000" becomes "_5b_3a_3a1_5d_3a5000".
func fileName(host string) (string, error) {
	h, err := normalizeHost(host)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			if i == 0 && windowsReserved(h) {
				fmt.Fprintf(&b, "_%02x", c)
				continue
			}
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02x", c)
	}
	if b.Len() > maxNameLen {
		return "", fmt.Errorf("%w %q: too long", ErrInvalidHost, host)
	}
	return b.String(), nil
}

// hostFromFileName reverses fileName; ok is false for any name fileName
// would not produce.
func hostFromFileName(name string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '_' {
			b.WriteByte(name[i])
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		v, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	host := b.String()
	if canon, err := fileName(host); err != nil || canon != name {
		return "", false
	}
	return host, true
}

// windowsReserved reports whether the part of h before the first '.' or
// ':' is a DOS device name, which Windows will not open as a file even
// with an extension.
func windowsReserved(h string) bool {
	first := h
	if i := strings.IndexAny(h, ".:"); i >= 0 {
		first = h[:i]
	}
	switch first {
	case "con", "prn", "aux", "nul", "conin$", "conout$":
		return true
	}
	if len(first) == 4 && (strings.HasPrefix(first, "com") || strings.HasPrefix(first, "lpt")) {
		return first[3] >= '0' && first[3] <= '9'
	}
	return false
}
