package cli

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/session/sessiontest"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// counted is a Factory on sources that count their calls.
type counted struct {
	f                    *cmdutil.Factory
	user, cache, session int
	lookups              int
	// sessionErr, if set, is what the session source answers.
	sessionErr error
	// got is the SessionOptions the session source was last given.
	got shared.SessionOptions
}

func newCounted(t *testing.T, configRegistry string, env map[string]string) *counted {
	t.Helper()
	c := &counted{}
	dir := t.TempDir()
	ios, _, _, _ := iostreams.Test()
	c.f = newFactory(ios, sources{
		userConfig: func() (config.User, error) { c.user++; return config.User{Registry: configRegistry}, nil },
		tokenCache: func() (*tokencache.Cache, error) { c.cache++; return tokencache.Open(dir) },
		session: func(_ context.Context, reg session.Registry, o shared.SessionOptions) (tokencache.Entry, error) {
			c.session++
			c.got = o
			if c.sessionErr != nil {
				return tokencache.Entry{}, c.sessionErr
			}
			return tokencache.Entry{Kind: tokencache.KindSession, Token: "token-for-" + reg.Host}, nil
		},
	})
	c.f.LookupEnv = func(k string) (string, bool) { c.lookups++; v, ok := env[k]; return v, ok }
	return c
}

func TestFactoryComputesNothingUntilAsked(t *testing.T) {
	c := newCounted(t, "config.example", nil)
	if c.user+c.cache+c.session+c.lookups != 0 {
		t.Fatalf("newFactory() computed: user config %d, token cache %d, session %d, env %d; want none", c.user, c.cache, c.session, c.lookups)
	}
	cache1, err1 := c.f.TokenCache()
	cache2, err2 := c.f.TokenCache()
	if err1 != nil || err2 != nil || cache1 != cache2 || c.cache != 1 {
		t.Errorf("TokenCache() twice = %p, %v; %p, %v; opened %d times, want the same cache opened once", cache1, err1, cache2, err2, c.cache)
	}
	for range 2 {
		if u, err := c.f.UserConfig(); err != nil || u.Registry != "config.example" {
			t.Errorf("UserConfig() = %+v, %v", u, err)
		}
	}
	if c.user != 1 {
		t.Errorf("UserConfig() twice read the file %d times, want 1", c.user)
	}
}

func TestFactoryRegistry(t *testing.T) {
	tests := []struct {
		name        string
		flag        string
		env         map[string]string
		config      string
		want        string
		wantUser    int // reads of the user configuration
		wantFlagErr bool
		wantHint    string
	}{
		{name: "flag beats env and config", flag: "a.example", env: map[string]string{"CHAINCTL_REGISTRY": "b.example"}, config: "c.example", want: "https://a.example"},
		{name: "env beats config", env: map[string]string{"CHAINCTL_REGISTRY": "127.0.0.1:5000"}, config: "c.example", want: "http://127.0.0.1:5000"},
		{name: "config", config: "c.example:8443", want: "https://c.example:8443", wantUser: 1},
		{name: "blank env falls through", env: map[string]string{"CHAINCTL_REGISTRY": " "}, config: "c.example", want: "https://c.example", wantUser: 1},
		{name: "none", wantUser: 1, wantHint: "pass --registry HOST, set CHAINCTL_REGISTRY, or run `chainctl config set registry HOST`"},
		{name: "plain http elsewhere", flag: "http://a.example", wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounted(t, tt.config, tt.env)
			for i := range 2 {
				reg, err := c.f.Registry(tt.flag)
				var fe *cmdutil.FlagError
				var he *cmdutil.HintError
				switch {
				case tt.wantFlagErr:
					if !errors.As(err, &fe) {
						t.Fatalf("Registry(%q) #%d = %v, want a FlagError", tt.flag, i, err)
					}
				case tt.wantHint != "":
					if !errors.As(err, &he) || he.Hint != tt.wantHint || err.Error() != "no registry given" {
						t.Fatalf("Registry(%q) #%d = %v, want \"no registry given\" with hint %q", tt.flag, i, err, tt.wantHint)
					}
				case err != nil || reg.URL != tt.want:
					t.Fatalf("Registry(%q) #%d = %+v, %v, want %s", tt.flag, i, reg, err, tt.want)
				}
			}
			if c.user != tt.wantUser {
				t.Errorf("the user configuration was read %d times, want %d", c.user, tt.wantUser)
			}
			if c.lookups > 1 {
				t.Errorf("the environment was read %d times for two calls, want at most 1", c.lookups)
			}
		})
	}
}

func TestFactorySession(t *testing.T) {
	c := newCounted(t, "", map[string]string{"CHAINCTL_TOKEN_MIN_LIFE": "2m"})
	a, _ := session.ParseRegistry("a.example")
	b, _ := session.ParseRegistry("b.example")
	for range 2 {
		if e, err := c.f.Session(t.Context(), a); err != nil || e.Token != "token-for-a.example" {
			t.Fatalf("Session(a) = %+v, %v", e, err)
		}
	}
	if c.session != 1 || c.cache != 1 {
		t.Errorf("Session(a) twice: resolved %d times, cache opened %d times, want 1 and 1", c.session, c.cache)
	}
	if e, err := c.f.Session(t.Context(), b); err != nil || e.Token != "token-for-b.example" {
		t.Fatalf("Session(b) = %+v, %v", e, err)
	}
	if c.session != 2 || c.cache != 1 {
		t.Errorf("Session(b): resolved %d times in all, cache opened %d times, want 2 and 1", c.session, c.cache)
	}
	if c.got.HTTPClient == nil || c.got.Cache == nil || c.got.LookupEnv == nil {
		t.Fatalf("session source got %+v, want an HTTP client, the cache and LookupEnv", c.got)
	}
	if v, _ := c.got.LookupEnv("CHAINCTL_TOKEN_MIN_LIFE"); v != "2m" {
		t.Errorf("session source's LookupEnv is not the Factory's: $CHAINCTL_TOKEN_MIN_LIFE = %q", v)
	}

	// A failure is remembered too: the run asks once.
	c = newCounted(t, "", nil)
	c.sessionErr = errors.New("boom")
	for range 2 {
		if _, err := c.f.Session(t.Context(), a); err == nil || err.Error() != "boom" {
			t.Fatalf("Session(a) = %v, want boom", err)
		}
	}
	if c.session != 1 {
		t.Errorf("a failing Session(a) twice was resolved %d times, want 1", c.session)
	}

	// Accessors read the Factory's fields when called: a fake set after
	// newFactory is the one used.
	c = newCounted(t, "", nil)
	c.f.TokenCache = func() (*tokencache.Cache, error) { return nil, errors.New("no cache here") }
	if _, err := c.f.Session(t.Context(), a); err == nil || err.Error() != "no cache here" || c.session != 0 {
		t.Errorf("Session() with a failing TokenCache = %v after %d resolutions, want its error and none", err, c.session)
	}
}

// TestFactorySessionNotLoggedIn runs the real session source on a stub
// registry: a cached session is used; without one (and no CI credentials)
// the error is the login hint with exit status 4.
func TestFactorySessionNotLoggedIn(t *testing.T) {
	reg, _ := session.ParseRegistry(sessiontest.Host)
	build := func(t *testing.T, cache *tokencache.Cache) *cmdutil.Factory {
		stub := sessiontest.New(t)
		ios, _, _, _ := iostreams.Test()
		f := newFactory(ios, sources{
			tokenCache: func() (*tokencache.Cache, error) { return cache, nil },
			session: func(ctx context.Context, r session.Registry, o shared.SessionOptions) (tokencache.Entry, error) {
				o.Ambient = sessiontest.Env{} // not the CI credentials of the machine running the test
				return shared.Session(ctx, r, o)
			},
		})
		f.HTTPClient = stub.HTTPClient
		f.LookupEnv = sessiontest.Env{}.LookupEnv
		return f
	}
	cache, err := tokencache.Open(filepath.Join(t.TempDir(), "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = build(t, cache).Session(t.Context(), reg)
	var he *cmdutil.HintError
	if exitCode(err) != ExitAuth || !errors.As(err, &he) || he.Hint != "run `chainctl auth login --registry registry.test`" ||
		err.Error() != "not logged in to registry.test" {
		t.Errorf("Session() = %v (exit %d), want \"not logged in to registry.test\", the login hint, exit 4", err, exitCode(err))
	}

	if err := cache.Put(sessiontest.Host, tokencache.Entry{Kind: tokencache.KindSession, Token: sessiontest.SessionToken, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if e, err := build(t, cache).Session(t.Context(), reg); err != nil || e.Token != sessiontest.SessionToken {
		t.Errorf("Session() with a cached session = %+v, %v", e, err)
	}
}

// TestRunAsksOnlyForWhatItNeeds runs commands through the whole tree on
// a counting Factory: a value is computed only by a command that uses it.
func TestRunAsksOnlyForWhatItNeeds(t *testing.T) {
	tests := []struct {
		name                 string
		args                 []string
		env                  map[string]string
		user, cache, session int
		want                 ExitCode
	}{
		{name: "version", args: []string{"version"}},
		{name: "help", args: []string{"auth", "--help"}},
		{name: "status with --registry", args: []string{"auth", "status", "--registry", "r.example"}, cache: 1, want: ExitAuth},
		{name: "status from the config", args: []string{"auth", "status"}, user: 1, cache: 1, want: ExitAuth},
		{name: "status from the environment", args: []string{"auth", "status"}, env: map[string]string{"CHAINCTL_REGISTRY": "r.example"}, cache: 1, want: ExitAuth},
		{name: "token", args: []string{"auth", "token", "--registry", "r.example"}, cache: 1, session: 1, want: ExitAuth},
		{name: "identities with a token file", args: []string{"iam", "identities", "list", "--registry", "r.example", "--token-file", "/nonexistent/token"}, want: ExitAuth},
		{name: "identities usage error", args: []string{"iam", "identities", "delete", "ci"}, want: ExitError},
		{name: "identities from the login session", args: []string{"iam", "identities", "list"}, user: 1, cache: 1, session: 1, want: ExitAuth},
		{name: "pull-token create usage error", args: []string{"auth", "pull-token", "create", "--save"}, want: ExitError},
		{name: "pull-token revoke usage error", args: []string{"auth", "pull-token", "revoke", "ci"}, want: ExitError},
		{name: "pull-token list from the login session", args: []string{"auth", "pull-token", "list"}, user: 1, cache: 1, session: 1, want: ExitAuth},
		{name: "configure-docker --pull-token usage error", args: []string{"auth", "configure-docker", "--pull-token"}, want: ExitError},
		{name: "subscription create usage error", args: []string{"events", "subscriptions", "create", "https://h.example.com"}, want: ExitError},
		{name: "subscription delete usage error", args: []string{"events", "subscriptions", "delete", "hooks"}, want: ExitError},
		{name: "subscription list from the login session", args: []string{"events", "subscriptions", "list"}, user: 1, cache: 1, session: 1, want: ExitAuth},
		{name: "listen needs no session", args: []string{"events", "listen", "--addr", "127.0.0.1:0", "--registry", "http://registry.example.com"}, want: ExitError},
		{name: "listen usage error", args: []string{"events", "listen", "--addr", ":0"}, want: ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounted(t, "config.example", tt.env)
			c.sessionErr = &cmdutil.AuthError{Err: errors.New("not logged in")}
			c.f.HTTPClient = func() (*http.Client, error) { return &http.Client{Transport: noNetwork{t}}, nil }
			if got := Run(t.Context(), c.f, tt.args); got != tt.want {
				t.Errorf("Run(%q) = %d, want %d", tt.args, got, tt.want)
			}
			if c.user != tt.user || c.cache != tt.cache || c.session != tt.session {
				t.Errorf("Run(%q) computed user config %d, token cache %d, session %d times; want %d, %d, %d",
					tt.args, c.user, c.cache, c.session, tt.user, tt.cache, tt.session)
			}
		})
	}
}

func TestMemo(t *testing.T) {
	var m memo[string, int]
	n := 0
	f := func() (int, error) { n++; return n, nil }
	if a, _ := m.get("x", f); a != 1 {
		t.Errorf("get(x) = %d, want 1", a)
	}
	if a, _ := m.get("x", f); a != 1 {
		t.Errorf("get(x) again = %d, want 1 (remembered)", a)
	}
	if b, _ := m.get("y", f); b != 2 {
		t.Errorf("get(y) = %d, want 2", b)
	}
}

// noNetwork fails the test on any request.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	return nil, errors.New("no network in this test")
}
