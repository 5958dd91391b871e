package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// maxIssuerURLLength bounds a configured issuer URL.
const maxIssuerURLLength = 2048

// Issuer is one configured upstream issuer and where its keys come from.
type Issuer struct {
	// URL is the issuer identifier, compared byte for byte with a token's
	// iss and with the discovery document's issuer.
	URL string
	// JWKS, when set, is the issuer's public key set (RFC 7517 JSON) given
	// in configuration. The issuer is then never contacted; this is for CI
	// systems whose issuer the registry cannot reach.
	JWKS []byte
	// PublicOnly restricts discovery and key fetches to public addresses
	// (see egress.PublicOnly). It is for issuers that only identities
	// created through the API name, not the server's configuration:
	// whatever their URL's host resolves to is checked when each
	// connection is made (so a name that resolves, or is re-pointed, to a
	// loopback, private, link-local or other special-purpose address is
	// refused), and through an egress proxy it is checked before the proxy
	// is asked to connect.
	PublicOnly bool
}

// IssuerProvider supplies the configured issuers, e.g. from identities.
type IssuerProvider interface {
	// LookupIssuer returns the configuration of the issuer whose URL is iss,
	// and false when none is configured.
	LookupIssuer(ctx context.Context, iss string) (Issuer, bool, error)
}

// IssuerProviderFunc adapts a function to IssuerProvider.
type IssuerProviderFunc func(ctx context.Context, iss string) (Issuer, bool, error)

// LookupIssuer calls f.
func (f IssuerProviderFunc) LookupIssuer(ctx context.Context, iss string) (Issuer, bool, error) {
	return f(ctx, iss)
}

// StaticIssuers returns a provider of a fixed set of issuers, each checked
// with ValidateIssuer.
func StaticIssuers(issuers ...Issuer) (IssuerProvider, error) {
	m := make(staticIssuers, len(issuers))
	for _, is := range issuers {
		if err := ValidateIssuer(is); err != nil {
			return nil, err
		}
		if _, dup := m[is.URL]; dup {
			return nil, fmt.Errorf("issuer %q configured twice", is.URL)
		}
		is.JWKS = append([]byte(nil), is.JWKS...)
		if len(is.JWKS) == 0 {
			is.JWKS = nil
		}
		m[is.URL] = is
	}
	return m, nil
}

type staticIssuers map[string]Issuer

func (m staticIssuers) LookupIssuer(_ context.Context, iss string) (Issuer, bool, error) {
	is, ok := m[iss]
	return is, ok, nil
}

// ValidateIssuer checks an issuer's configuration: its URL is absolute,
// HTTPS (plain HTTP only on a loopback host), without credentials, query or
// fragment; a static JWKS, if given, holds at least one usable key.
// Configuration code should call it when an issuer is configured; Verify
// calls it again before any use.
func ValidateIssuer(is Issuer) error {
	if err := validateIssuerURL(is.URL); err != nil {
		return err
	}
	if len(is.JWKS) > 0 {
		if _, err := parseKeySet(is.JWKS); err != nil {
			return fmt.Errorf("issuer %q: static keys: %w", is.URL, err)
		}
	}
	return nil
}

func validateIssuerURL(issuer string) error {
	if issuer == "" {
		return errors.New("issuer URL is empty")
	}
	if len(issuer) > maxIssuerURLLength {
		return fmt.Errorf("issuer URL is longer than %d bytes", maxIssuerURLLength)
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", issuer, err)
	}
	if err := checkFetchURL(u, true); err != nil {
		return fmt.Errorf("issuer %q: %w", issuer, err)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#") {
		return fmt.Errorf("issuer %q: must not have user info, query or fragment", issuer)
	}
	return nil
}

// checkFetchURL accepts https URLs, and http URLs on a loopback host when
// allowLoopbackHTTP is set.
func checkFetchURL(u *url.URL, allowLoopbackHTTP bool) error {
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return errors.New("not an absolute URL with a host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowLoopbackHTTP && isLoopbackHost(u.Hostname()) {
			return nil
		}
		return errors.New("plain http is allowed only on loopback")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

// isLoopbackHost reports whether host (without port or brackets) is
// localhost or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
