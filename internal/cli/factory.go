package cli

import (
	"context"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// NewFactory returns the Factory for a real run on ios.
func NewFactory(ios *iostreams.IOStreams) *cmdutil.Factory {
	return newFactory(ios, sources{
		userConfig: loadUserConfig,
		tokenCache: func() (*tokencache.Cache, error) { return tokencache.OpenDefault() },
		session:    shared.Session,
	})
}

// sources are where a Factory's lazy values come from; tests count the
// calls.
type sources struct {
	userConfig func() (config.User, error)
	tokenCache func() (*tokencache.Cache, error)
	session    func(context.Context, session.Registry, shared.SessionOptions) (tokencache.Entry, error)
}

// newFactory builds a Factory whose UserConfig, TokenCache, Registry and
// Session call src only when a command first asks, and then remember the
// answer, errors included, for the rest of the run. They read the
// Factory's other fields (LookupEnv, HTTPClient, UserConfig, TokenCache)
// at that moment, so a test may replace any of them after newFactory.
func newFactory(ios *iostreams.IOStreams, src sources) *cmdutil.Factory {
	globals := &cmdutil.Globals{Output: cmdutil.OutputTable}
	f := &cmdutil.Factory{
		IOStreams: ios,
		Globals:   globals,
		LookupEnv: os.LookupEnv,
		HTTPClient: func() (*http.Client, error) {
			// One client per call, not a package-level one; it reads
			// --debug, so only after flags are parsed. The default
			// transport honours HTTPS_PROXY; the timeout bounds a whole
			// request, and Go drops the Authorization header on a
			// redirect to another host.
			c := &http.Client{Timeout: 30 * time.Second}
			if globals.Debug {
				c.Transport = &cmdutil.DebugTransport{
					Log: cmdutil.NewLogger(ios.ErrOut, ios.IsStderrTTY(), true),
				}
			}
			return c, nil
		},
		UserConfig: sync.OnceValues(src.userConfig),
		TokenCache: sync.OnceValues(src.tokenCache),
	}
	var registries memo[string, session.Registry]
	f.Registry = func(flag string) (session.Registry, error) {
		return registries.get(flag, func() (session.Registry, error) {
			return shared.ResolveRegistry(flag, f.LookupEnv, f.UserConfig)
		})
	}
	var sessions memo[string, tokencache.Entry]
	f.Session = func(ctx context.Context, reg session.Registry) (tokencache.Entry, error) {
		return sessions.get(reg.URL, func() (tokencache.Entry, error) {
			hc, err := f.HTTPClient()
			if err != nil {
				return tokencache.Entry{}, err
			}
			cache, err := f.TokenCache()
			if err != nil {
				return tokencache.Entry{}, err
			}
			return src.session(ctx, reg, shared.SessionOptions{HTTPClient: hc, Cache: cache, LookupEnv: f.LookupEnv})
		})
	}
	f.OpenBrowser = func(ctx context.Context, url string) error {
		return shared.OpenBrowser(ctx, f.LookupEnv, url)
	}
	return f
}

// loadUserConfig reads the user configuration file from its default place.
func loadUserConfig() (config.User, error) {
	path, err := config.UserConfigPath()
	if err != nil {
		return config.User{}, err
	}
	return config.LoadUser(path)
}

// memo remembers, per key, the first answer of a computation (value and
// error), so that each is computed at most once.
type memo[K comparable, V any] struct {
	mu   sync.Mutex
	done map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v   V
	err error
}

// get returns the remembered answer for k, computing it with compute the
// first time. The lock is held while compute runs: a second caller for
// any key waits rather than computing again.
func (m *memo[K, V]) get(k K, compute func() (V, error)) (V, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.done[k]; ok {
		return e.v, e.err
	}
	v, err := compute()
	if m.done == nil {
		m.done = make(map[K]memoEntry[V])
	}
	m.done[k] = memoEntry[V]{v, err}
	return v, err
}
