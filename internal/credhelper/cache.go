package credhelper

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chainctl/chainctl/internal/tokencache"
)

// SessionUsername is the username "get" gives with a session token: the
// registry's token endpoint ignores it and takes the secret as the token.
const SessionUsername = "_token"

// ServerHost turns a ServerURL as docker and oras pass it — "127.0.0.1:5000",
// "registry.example.com", "https://registry.example.com",
// "https://index.docker.io/v1/" — into the host[:port] the token cache is
// keyed by, lower-cased. Any path is dropped. It returns ErrNotFound for
// anything that is not a registry host, with or without an http(s) scheme,
// so that "get" on garbage answers as for an unknown host.
func ServerHost(serverURL string) (string, error) {
	s := strings.TrimSpace(serverURL)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil ||
			u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return "", ErrNotFound
		}
		s = u.Host
	} else if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if s == "" || strings.ContainsAny(s, "@?#%\\ \t\r\n") {
		return "", ErrNotFound
	}
	// The cache itself checks the host in full (labels, ports, IPv6); see
	// tokencache.ErrInvalidHost, which Cache maps to ErrNotFound.
	return strings.ToLower(s), nil
}

// Cache is a Source and a Store on the token cache: "store" keeps a
// tokencache.KindStored entry in the host's stored slot (Cache.Stored),
// beside its session; "get" answers with the stored credential when there
// is one, else with the session; "erase" and "list" see stored
// credentials only (a session belongs to `chainctl auth login` and
// `logout`). It never goes to the
// network, unless given a Resolver (see WithResolver): then a configured
// registry with no usable entry gets a session from the Resolver.
type Cache struct {
	open     func() (*tokencache.Cache, error)
	minLife  time.Duration
	now      func() time.Time
	resolve  Resolver
	registry func(host string) string

	once  sync.Once
	cache *tokencache.Cache
	err   error
}

var (
	_ Source = (*Cache)(nil)
	_ Store  = (*Cache)(nil)
)

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithMinLife sets how much life a session token must have left to be
// handed out (default tokencache.DefaultMinLife).
func WithMinLife(d time.Duration) CacheOption { return func(c *Cache) { c.minLife = d } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// Resolver obtains a session for registry (as the user configured it, or a
// host) when the cache has no usable one, under the host's cache lock, and
// caches it. The CLI's is session.Resolve, which exchanges ambient CI
// credentials. When nothing can renew the session its error has a method
// LoginRequired() bool that returns true (session.LoginRequiredError).
type Resolver func(ctx context.Context, registry string, tc *tokencache.Cache, minLife time.Duration) (tokencache.Entry, error)

// WithResolver makes "get" fall back to r for a configured registry: the
// one registryFor returns for a host (the user configuration's default
// registry, when host is its host; "" otherwise), or any host the cache
// has an entry for. Other hosts still get ErrNotFound. Neither is called
// when the cache answers, so a warm "get" stays off the network.
func WithResolver(r Resolver, registryFor func(host string) string) CacheOption {
	return func(c *Cache) { c.resolve, c.registry = r, registryFor }
}

// NewCache returns a Cache on the token cache open returns. open is called
// at most once, when an action first needs the cache, so "version" and
// usage errors never touch the disk.
func NewCache(open func() (*tokencache.Cache, error), opts ...CacheOption) *Cache {
	c := &Cache{open: open, minLife: tokencache.DefaultMinLife, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// OpenDefault opens the token cache in tokencache.DefaultDir.
func OpenDefault() (*tokencache.Cache, error) {
	return tokencache.OpenDefault()
}

func (c *Cache) tokens() (*tokencache.Cache, error) {
	c.once.Do(func() { c.cache, c.err = c.open() })
	return c.cache, c.err
}

// Get implements Source. A credential stored for the host (docker login,
// a saved pull token) comes first: the user stored it for docker and its
// kin. Without one, the host's session answers, renewed through the
// Resolver when there is one.
func (c *Cache) Get(ctx context.Context, serverURL string) (string, string, error) {
	host, err := ServerHost(serverURL)
	if err != nil {
		return "", "", err
	}
	tc, err := c.tokens()
	if err != nil {
		return "", "", err
	}
	e, err := tc.Stored().Get(host)
	switch {
	case errors.Is(err, tokencache.ErrInvalidHost):
		return "", "", ErrNotFound
	case err == nil:
		// Nothing renews a stored credential: it is good until it
		// expires, and the registry is the judge of that.
		if e.UsableAt(c.now(), 0) {
			return credentialsOf(e)
		}
		return "", "", storedExpiredError(host)
	case !errors.Is(err, tokencache.ErrNotFound):
		return "", "", err
	}
	e, err = tc.Get(host)
	missing := errors.Is(err, tokencache.ErrNotFound)
	if err != nil && !missing {
		return "", "", err
	}
	if !missing {
		if e.UsableAt(c.now(), c.minLife) {
			return credentialsOf(e)
		}
		if e.Kind == tokencache.KindStored {
			// Kept in the session's slot by an older chainctl.
			return "", "", storedExpiredError(host)
		}
	}
	registry := c.configured(host, !missing)
	if registry == "" {
		if missing {
			return "", "", ErrNotFound
		}
		return "", "", expiredError(host)
	}
	e, err = c.resolve(ctx, registry, tc, c.minLife)
	if loginRequired(err) {
		if missing {
			return "", "", err // names `chainctl auth login`
		}
		return "", "", expiredError(host)
	}
	if err != nil {
		return "", "", err
	}
	return credentialsOf(e)
}

// configured returns the registry to resolve a session for host with, or
// "" when host is not a configured registry or there is no Resolver.
func (c *Cache) configured(host string, hasEntry bool) string {
	if c.resolve == nil {
		return ""
	}
	if c.registry != nil {
		if r := c.registry(host); r != "" {
			return r
		}
	}
	if hasEntry {
		return host
	}
	return ""
}

// loginRequired reports whether err, from a Resolver, means that nothing
// could renew the session.
func loginRequired(err error) bool {
	var lr interface{ LoginRequired() bool }
	return errors.As(err, &lr) && lr.LoginRequired()
}

func storedExpiredError(host string) error {
	return fmt.Errorf("the credentials stored for %s have expired; store new ones (`docker login %s`), "+
		"or run `docker logout %s` to use your chainctl session", host, host, host)
}

func expiredError(host string) error {
	return fmt.Errorf("the session for %s has expired; run `chainctl auth login --registry %s`", host, host)
}

func credentialsOf(e tokencache.Entry) (string, string, error) {
	if e.Kind == tokencache.KindSession {
		return SessionUsername, e.Token, nil
	}
	return e.Username, e.Token, nil
}

// Saved is what a host had when Save stored a credential for it.
type Saved struct {
	// Host is the registry host the credential was stored for.
	Host string
	// Replaced is the username of the stored credential the new one
	// replaced, "" if there was none.
	Replaced string
	// Session reports whether the host has a login session (`chainctl
	// auth login`). It is kept for chainctl's own calls, but "get" now
	// answers docker with the stored credential.
	Session bool
}

// Store implements Store. It replaces the credential stored for the host
// and leaves its login session alone: chainctl's own calls keep using
// the session, while "get" answers with what was stored. A secret that is
// a JWT (a chainctl session token given to `docker login`, an OIDC token)
// is kept with the expiry its exp claim says, so that `chainctl auth
// status` can tell when it stops working and "get" stops handing it out
// then, rather than a login that looks good for ever.
func (c *Cache) Store(ctx context.Context, cr Credentials) error {
	_, err := c.Save(ctx, cr, TokenExpiry(cr.Secret))
	return err
}

// TokenExpiry returns the exp claim of secret when it is a JWT, zero
// otherwise. The token is not verified: this only says when the registry,
// which verifies it, will stop accepting it.
func TokenExpiry(secret string) time.Time {
	parts := strings.Split(strings.TrimSpace(secret), ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}
	}
	exp, err := claims.Exp.Float64()
	if err != nil || exp <= 0 || exp > 1<<40 {
		return time.Time{}
	}
	return time.Unix(int64(exp), 0).UTC()
}

// Save is Store for a credential that expires at expiry (zero: never, as
// far as the helper knows), such as a pull token. It reports what the
// host had, so that the caller can say what docker will use from now on.
func (c *Cache) Save(ctx context.Context, cr Credentials, expiry time.Time) (Saved, error) {
	host, err := ServerHost(cr.ServerURL)
	if err != nil {
		return Saved{}, fmt.Errorf("store credentials: %q is not a registry host", cr.ServerURL)
	}
	tc, err := c.tokens()
	if err != nil {
		return Saved{}, err
	}
	e := tokencache.Entry{
		Kind:     tokencache.KindStored,
		Token:    cr.Secret,
		Username: cr.Username,
		Expiry:   expiry,
		Issued:   c.now().UTC(),
	}
	saved := Saved{Host: host}
	// Under the host lock, so a store never interleaves with a session
	// refresh for the same host.
	err = tc.WithLock(ctx, host, func() error {
		if old, err := tc.Stored().Get(host); err == nil {
			saved.Replaced = old.Username
		}
		switch old, err := tc.Get(host); {
		case err == nil && old.Kind == tokencache.KindSession:
			saved.Session = true
		case err == nil && old.Kind == tokencache.KindStored:
			// An older chainctl stored it in the session's slot; the
			// new credential replaces it.
			saved.Replaced = old.Username
			if err := tc.Delete(host); err != nil {
				return err
			}
		}
		return tc.Stored().Put(host, e)
	})
	if errors.Is(err, tokencache.ErrInvalidHost) {
		return Saved{}, fmt.Errorf("store credentials: %q is not a registry host", cr.ServerURL)
	}
	if err != nil {
		return Saved{}, err
	}
	return saved, nil
}

// Erase implements Store. Only the stored credential is erased; a
// session is left for `chainctl auth logout`.
func (c *Cache) Erase(ctx context.Context, serverURL string) error {
	host, err := ServerHost(serverURL)
	if err != nil {
		return nil // nothing can be stored for it
	}
	tc, err := c.tokens()
	if err != nil {
		return err
	}
	err = tc.WithLock(ctx, host, func() error {
		// A corrupt entry is erased too: it is what docker logout is for.
		if err := tc.Stored().Delete(host); err != nil {
			return err
		}
		// What an older chainctl stored in the session's slot.
		e, err := tc.Get(host)
		if errors.Is(err, tokencache.ErrNotFound) || err == nil && e.Kind != tokencache.KindStored {
			return nil
		}
		return tc.Delete(host)
	})
	if errors.Is(err, tokencache.ErrInvalidHost) {
		return nil
	}
	return err
}

// List implements Store: stored credentials only, keyed by host.
func (c *Cache) List(context.Context) (map[string]string, error) {
	tc, err := c.tokens()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	// The session slot first, for what an older chainctl stored there:
	// the stored slot, which "get" prefers, overrides it.
	for _, slot := range []*tokencache.Cache{tc, tc.Stored()} {
		hosts, err := slot.List()
		if err != nil {
			return nil, err
		}
		for _, h := range hosts {
			e, err := slot.Get(h)
			if err != nil || e.Kind != tokencache.KindStored {
				continue // gone meanwhile, corrupt, or a session
			}
			out[h] = e.Username
		}
	}
	return out, nil
}
