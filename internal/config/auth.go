package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/chainctl/chainctl/internal/policy"
)

// The defaults of the auth section.
const (
	DefaultAccessTokenTTL = 5 * time.Minute
	DefaultSessionTTL     = time.Hour
	DefaultMaxSessionTTL  = 12 * time.Hour
	DefaultKeyRotation    = 30 * 24 * time.Hour
	// DefaultPullTokenMaxTTL caps the lifetime of pull tokens: a year.
	DefaultPullTokenMaxTTL = 8760 * time.Hour
)

// Auth configures who may use the registry and how long its tokens live.
// It comes only from the auth section of the configuration file; LoadServe
// fills in the defaults and validates it.
type Auth struct {
	// Service is the registry's service name: the "service" of token
	// requests and the audience of its access tokens, and the default
	// audience of identities. Default: the host[:port] of ExternalURL.
	Service string
	// PublicRepositories may be pulled without credentials.
	PublicRepositories []policy.RepositoryPattern
	// AccessTokenTTL is the lifetime of access tokens from /token.
	AccessTokenTTL time.Duration
	// SessionTTL is the default lifetime of session tokens from
	// /oauth/token, and MaxSessionTTL (at least SessionTTL) the most a
	// client may ask for.
	SessionTTL    time.Duration
	MaxSessionTTL time.Duration
	// KeyRotation is the age at which the signing key is replaced; 0
	// turns automatic rotation off.
	KeyRotation time.Duration
	// Identities are the upstream tokens the registry trusts, each
	// validated (policy.CompileAll) with Service as the default audience.
	Identities []policy.Identity
	// Login is the provider `chainctl auth login` uses, announced at
	// /.well-known/chainctl-configuration; zero if none is configured.
	Login Login
	// PullTokenMaxTTL (auth.pull_tokens.max_ttl) is the longest lifetime
	// a pull token may be created with.
	PullTokenMaxTTL time.Duration
}

// pullTokensFile is the auth.pull_tokens section as written.
type pullTokensFile struct {
	MaxTTL string `yaml:"max_ttl"`
}

// Login names an OpenID provider and the public client registered with it
// for `chainctl auth login`. Both are set, or neither.
type Login struct {
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
}

// authFile is the auth section as written; durations are Go duration
// strings ("5m", "12h"), "" when unset.
type authFile struct {
	Service            string                     `yaml:"service"`
	PublicRepositories []policy.RepositoryPattern `yaml:"public_repositories"`
	AccessTokenTTL     string                     `yaml:"access_token_ttl"`
	SessionTTL         string                     `yaml:"session_ttl"`
	MaxSessionTTL      string                     `yaml:"max_session_ttl"`
	KeyRotation        string                     `yaml:"key_rotation"`
	Identities         []policy.Identity          `yaml:"identities"`
	Login              Login                      `yaml:"login"`
	PullTokens         pullTokensFile             `yaml:"pull_tokens"`
}

// resolveAuth fills in the defaults of the auth section f (nil if the file
// has none) and validates it, returning every problem as Errors;
// externalURL is the validated external URL.
func resolveAuth(f *authFile, externalURL string) (Auth, error) {
	if f == nil {
		f = &authFile{}
	}
	var errs Errors
	a := Auth{
		Service:            f.Service,
		PublicRepositories: slices.Clone(f.PublicRepositories),
		Identities:         slices.Clone(f.Identities),
		Login:              f.Login,
	}
	if a.Service == "" {
		u, err := url.Parse(externalURL)
		if err != nil {
			return Auth{}, fmt.Errorf("%s %q: %w", KeyExternalURL, externalURL, err)
		}
		a.Service = u.Host
	}
	if len(a.Service) > 255 || strings.ContainsFunc(a.Service, func(r rune) bool { return r <= ' ' || r == '"' || r == '\\' || unicode.IsControl(r) }) {
		// The service name is quoted in WWW-Authenticate headers.
		errs.add(fmt.Errorf("auth.service %q: want at most 255 characters without spaces, quotes or backslashes", a.Service))
	}
	for i, p := range a.PublicRepositories {
		if err := p.Validate(); err != nil {
			errs.add(fmt.Errorf("auth.public_repositories[%d]: %w", i, err))
		}
	}

	durations := []struct {
		key    string
		value  string
		def    time.Duration
		out    *time.Duration
		zeroOK bool
	}{
		{"access_token_ttl", f.AccessTokenTTL, DefaultAccessTokenTTL, &a.AccessTokenTTL, false},
		{"session_ttl", f.SessionTTL, DefaultSessionTTL, &a.SessionTTL, false},
		{"max_session_ttl", f.MaxSessionTTL, DefaultMaxSessionTTL, &a.MaxSessionTTL, false},
		{"key_rotation", f.KeyRotation, DefaultKeyRotation, &a.KeyRotation, true}, // 0: no automatic rotation
		{"pull_tokens.max_ttl", f.PullTokens.MaxTTL, DefaultPullTokenMaxTTL, &a.PullTokenMaxTTL, false},
	}
	for _, d := range durations {
		*d.out = d.def
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		switch {
		case err != nil:
			errs.add(fmt.Errorf("auth.%s %q: want a duration such as 90s, 5m or 12h", d.key, d.value))
			continue
		case v < 0 || v == 0 && !d.zeroOK:
			want := "a positive duration"
			if d.zeroOK {
				want = "a positive duration, or 0"
			}
			errs.add(fmt.Errorf("auth.%s %q: want %s", d.key, d.value, want))
			continue
		}
		*d.out = v
	}
	if a.PullTokenMaxTTL < time.Minute {
		errs.add(fmt.Errorf("auth.pull_tokens.max_ttl (%s): want at least 1m", a.PullTokenMaxTTL))
	}
	if a.MaxSessionTTL < a.SessionTTL {
		errs.add(fmt.Errorf("auth.max_session_ttl (%s) is shorter than auth.session_ttl (%s): a session could never last as long as its default; raise max_session_ttl", a.MaxSessionTTL, a.SessionTTL))
	}

	if _, err := policy.CompileAll(a.Identities, policy.IdentityOptions{Audience: a.Service}); err != nil {
		errs.add(fmt.Errorf("auth.identities: %w", err))
	}

	l := a.Login
	switch {
	case l.Issuer != "" && l.ClientID == "":
		errs.add(fmt.Errorf("auth.login.issuer is set but auth.login.client_id is not: set both, or neither"))
	case l.Issuer == "" && l.ClientID != "":
		errs.add(fmt.Errorf("auth.login.client_id is set but auth.login.issuer is not: set both, or neither"))
	case l.Issuer != "":
		if err := checkLoginIssuer(l.Issuer); err != nil {
			errs.add(fmt.Errorf("auth.login.issuer %q: %w", l.Issuer, err))
		}
		if len(l.ClientID) > 255 || strings.ContainsFunc(l.ClientID, func(r rune) bool { return r <= ' ' || unicode.IsControl(r) }) {
			errs.add(fmt.Errorf("auth.login.client_id %q: want at most 255 characters without spaces or control characters", l.ClientID))
		}
	}
	return a, errs.err()
}

// checkLoginIssuer accepts the same issuers identities do: https URLs, and
// http URLs on loopback hosts (a provider on the developer's machine).
// Anything else would send login codes and tokens in clear text.
func checkLoginIssuer(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Opaque != "" || u.Hostname() == "" || u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("want an absolute https URL, such as https://accounts.example.com")
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("an issuer has no user info, query or fragment")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("want https (http is accepted only on loopback hosts: 127.0.0.0/8, ::1, localhost)")
	}
	return nil
}

// isLoopback reports whether host names this machine only: localhost, or
// an address in 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
