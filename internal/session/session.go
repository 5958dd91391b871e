// Package session resolves a registry session for a host: a cached session
// token with enough life left, else one exchanged from ambient CI
// credentials, else ErrLoginRequired. Login performs an interactive or
// scripted login and caches its session.
//
// The package never prints; what the user must see goes through the
// login.Prompter given with WithLoginOptions.
package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/ambient"
	"github.com/chainctl/chainctl/internal/oidc/login"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// ErrLoginRequired means there is no usable session for a registry and no
// ambient credentials to obtain one. Errors returned by Resolve match it
// with errors.Is; their text names `chainctl auth login`.
var ErrLoginRequired = errors.New("not logged in")

// LoginRequiredError is the error Resolve returns when the user must log in.
type LoginRequiredError struct {
	Host string
}

func (e *LoginRequiredError) Error() string {
	return fmt.Sprintf("not logged in to %s and no ambient credentials found: run `chainctl auth login --registry %s`", e.Host, e.Host)
}

// Is reports whether target is ErrLoginRequired.
func (e *LoginRequiredError) Is(target error) bool { return target == ErrLoginRequired }

// LoginRequired reports true: the credential helper (package credhelper,
// which does not import this package) recognises the error by it.
func (e *LoginRequiredError) LoginRequired() bool { return true }

// Registry is a normalised registry address.
type Registry struct {
	// Host is host[:port], lower-cased: the token cache key.
	Host string
	// URL is scheme://host[:port], without a trailing slash.
	URL string
}

// ParseRegistry accepts host[:port] or http(s)://host[:port] (a trailing
// slash is ignored). Without a scheme a loopback host (localhost,
// 127.0.0.0/8, ::1) means http and any other host https. Plain http is
// refused for hosts that are not loopback, where a token would cross the
// network in clear text.
func ParseRegistry(s string) (Registry, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Registry{}, errors.New("registry is empty")
	}
	raw := s
	explicit := strings.Contains(s, "://")
	if !explicit {
		raw = "https://" + s
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return Registry{}, fmt.Errorf("registry %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return Registry{}, fmt.Errorf("registry %q: want HOST[:PORT] or http(s)://HOST[:PORT]", s)
	}
	if u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return Registry{}, fmt.Errorf("registry %q: empty port", s)
	}
	host := strings.ToLower(u.Host)
	loop := isLoopback(u.Hostname())
	scheme := u.Scheme
	if !explicit && loop {
		scheme = "http"
	}
	if scheme == "http" && !loop {
		return Registry{}, fmt.Errorf("registry %q: plain http is only allowed to a loopback host; use https", s)
	}
	return Registry{Host: host, URL: scheme + "://" + host}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Option configures Resolve, Login and AccessToken.
type Option func(*options)

type options struct {
	client      *http.Client
	cache       *tokencache.Cache
	minLife     time.Duration
	env         ambient.Env
	ambientOpts []ambient.Option
	loginOpts   []login.Option
	identity    string
	now         func() time.Time
}

// WithHTTPClient sets the client for the registry and identity provider
// (default http.DefaultClient).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithCache sets the token cache (default: tokencache.DefaultDir).
func WithCache(c *tokencache.Cache) Option { return func(o *options) { o.cache = c } }

// WithMinLife sets how much life a cached session must have left to be
// used (default tokencache.DefaultMinLife).
func WithMinLife(d time.Duration) Option { return func(o *options) { o.minLife = d } }

// WithAmbientEnv sets where ambient credentials are looked for (default
// ambient.OSEnv()), and options for ambient.Detect.
func WithAmbientEnv(env ambient.Env, opts ...ambient.Option) Option {
	return func(o *options) { o.env, o.ambientOpts = env, opts }
}

// WithLoginOptions passes options (prompter, browser opener, timeouts) to
// login.Browser and login.Device.
func WithLoginOptions(opts ...login.Option) Option {
	return func(o *options) { o.loginOpts = append(o.loginOpts, opts...) }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func newOptions(opts []Option) (*options, error) {
	o := &options{now: time.Now}
	for _, opt := range opts {
		opt(o)
	}
	if o.client == nil {
		o.client = http.DefaultClient
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.minLife <= 0 {
		o.minLife = tokencache.DefaultMinLife
	}
	if o.cache == nil {
		var err error
		if o.cache, err = tokencache.OpenDefault(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Resolve returns a session for registry (see ParseRegistry): the cached
// entry if it has at least the minimum life left; otherwise, under the
// host's cache lock, a session exchanged from ambient credentials (detected
// with the registry's service name as audience), which is cached. With
// nothing cached and no ambient credentials it returns a
// *LoginRequiredError (errors.Is ErrLoginRequired). A half-configured CI
// environment is an *ambient.DetectedError, not a login requirement.
func Resolve(ctx context.Context, registry string, opts ...Option) (tokencache.Entry, error) {
	reg, err := ParseRegistry(registry)
	if err != nil {
		return tokencache.Entry{}, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return tokencache.Entry{}, err
	}
	return o.cache.GetOrRefresh(ctx, reg.Host, o.minLife, func(ctx context.Context) (tokencache.Entry, error) {
		cfg, err := login.Discover(ctx, o.client, reg.URL)
		if err != nil {
			return tokencache.Entry{}, fmt.Errorf("renew session for %s: %w", reg.Host, err)
		}
		env := o.env
		if env == nil {
			env = ambient.OSEnv()
		}
		_, tok, err := ambient.Detect(ctx, env, cfg.Service, o.ambientOpts...)
		if errors.Is(err, ambient.ErrNone) {
			return tokencache.Entry{}, &LoginRequiredError{Host: reg.Host}
		}
		if err != nil {
			return tokencache.Entry{}, err
		}
		return o.exchange(ctx, cfg, tok)
	})
}

// exchange trades an ID token for a session entry.
func (o *options) exchange(ctx context.Context, cfg *login.Config, idToken string) (tokencache.Entry, error) {
	now := o.now()
	s, err := login.Exchange(ctx, o.client, cfg, idToken, o.identity, login.WithClock(o.now))
	if err != nil {
		return tokencache.Entry{}, err
	}
	exp := s.Expiry
	if exp.IsZero() {
		// The server sent no expires_in; the token's own exp is the
		// next best thing (it is ours, a JWT).
		if c, ok := jwtClaims(s.Token); ok && c.Exp > 0 {
			exp = time.Unix(c.Exp, 0)
		} else {
			return tokencache.Entry{}, errors.New("exchange id token for a session: the registry sent no expiry")
		}
	}
	return tokencache.Entry{Kind: tokencache.KindSession, Token: s.Token, Identity: s.Identity, Expiry: exp, Issued: now}, nil
}

// claims are the unverified claims shown to the user.
type claims struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Email   string `json:"email"`
	Exp     int64  `json:"exp"`
}

// jwtClaims decodes a JWT's payload without verifying it: only for
// display and for an expiry the server already vouched for.
func jwtClaims(tok string) (claims, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims{}, false
	}
	var c claims
	if json.Unmarshal(b, &c) != nil {
		return claims{}, false
	}
	return c, true
}

// readCapped reads at most n bytes of r.
func readCapped(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("response larger than %d bytes", n)
	}
	return b, nil
}
