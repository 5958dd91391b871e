package session_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/ambient"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/session/sessiontest"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func openCache(t *testing.T) *tokencache.Cache {
	t.Helper()
	c, err := tokencache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseRegistry(t *testing.T) {
	tests := []struct {
		name, in  string
		host, url string
		wantErr   bool
	}{
		{name: "host", in: "Registry.Example.com", host: "registry.example.com", url: "https://registry.example.com"},
		{name: "host port", in: "registry.example.com:5000", host: "registry.example.com:5000", url: "https://registry.example.com:5000"},
		{name: "https url", in: "https://registry.example.com/", host: "registry.example.com", url: "https://registry.example.com"},
		{name: "loopback defaults to http", in: "127.0.0.1:5000", host: "127.0.0.1:5000", url: "http://127.0.0.1:5000"},
		{name: "localhost", in: "localhost:5000", host: "localhost:5000", url: "http://localhost:5000"},
		{name: "ipv6 loopback http", in: "http://[::1]:5000", host: "[::1]:5000", url: "http://[::1]:5000"},
		{name: "https loopback kept", in: "https://127.0.0.1:5000", host: "127.0.0.1:5000", url: "https://127.0.0.1:5000"},
		{name: "http remote refused", in: "http://registry.example.com", wantErr: true},
		{name: "path refused", in: "https://registry.example.com/v2", wantErr: true},
		{name: "userinfo refused", in: "https://u:p@registry.example.com", wantErr: true},
		{name: "ftp refused", in: "ftp://registry.example.com", wantErr: true},
		{name: "empty", in: " ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := session.ParseRegistry(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRegistry(%q) = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && (got.Host != tt.host || got.URL != tt.url) {
				t.Errorf("ParseRegistry(%q) = %+v, want {%s %s}", tt.in, got, tt.host, tt.url)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name          string
		cached        *tokencache.Entry
		env           sessiontest.Env
		wantToken     string
		wantExchanges int
		wantErr       error
	}{
		{
			name:      "warm cache, no network",
			cached:    &tokencache.Entry{Kind: tokencache.KindSession, Token: "cached", Expiry: now.Add(time.Hour)},
			wantToken: "cached",
		},
		{
			name:          "nearly expired cache uses ambient",
			cached:        &tokencache.Entry{Kind: tokencache.KindSession, Token: "old", Expiry: now.Add(time.Minute)},
			env:           sessiontest.Env{ambient.EnvIdentityToken: sessiontest.IDToken("ci")},
			wantToken:     sessiontest.SessionToken,
			wantExchanges: 1,
		},
		{
			name:          "empty cache uses ambient",
			env:           sessiontest.Env{ambient.EnvIdentityToken: sessiontest.IDToken("ci")},
			wantToken:     sessiontest.SessionToken,
			wantExchanges: 1,
		},
		{
			name:    "nothing: login required",
			cached:  &tokencache.Entry{Kind: tokencache.KindSession, Token: "old", Expiry: now.Add(-time.Minute)},
			env:     sessiontest.Env{},
			wantErr: session.ErrLoginRequired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := sessiontest.New(t)
			cache := openCache(t)
			if tt.cached != nil {
				if err := cache.Put(sessiontest.Host, *tt.cached); err != nil {
					t.Fatal(err)
				}
			}
			e, err := session.Resolve(ctx, sessiontest.Host, session.WithCache(cache),
				session.WithHTTPClient(reg.Client()), session.WithAmbientEnv(tt.env))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Resolve() = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "chainctl auth login") {
					t.Errorf("Resolve() error %q does not name chainctl auth login", err)
				}
				return
			}
			if e.Token != tt.wantToken || reg.Exchanges != tt.wantExchanges {
				t.Errorf("Resolve() = %v (exchanges %d), want token %q, %d exchanges", e, reg.Exchanges, tt.wantToken, tt.wantExchanges)
			}
			if tt.wantExchanges > 0 {
				got, err := cache.Get(sessiontest.Host)
				if err != nil || got.Token != sessiontest.SessionToken || got.Identity != sessiontest.Identity {
					t.Errorf("cached = %v, %v", got, err)
				}
			}
		})
	}
}

func TestResolveParallelOneExchange(t *testing.T) {
	reg := sessiontest.New(t)
	cache := openCache(t)
	env := sessiontest.Env{ambient.EnvIdentityToken: sessiontest.IDToken("ci")}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := session.Resolve(context.Background(), sessiontest.Host, session.WithCache(cache),
				session.WithHTTPClient(reg.Client()), session.WithAmbientEnv(env)); err != nil {
				t.Errorf("Resolve() = %v", err)
			}
		})
	}
	wg.Wait()
	if reg.Exchanges != 1 {
		t.Errorf("exchanges = %d, want 1", reg.Exchanges)
	}
}

func TestLoginIDToken(t *testing.T) {
	reg := sessiontest.New(t)
	cache := openCache(t)
	res, err := session.Login(context.Background(), sessiontest.URL,
		session.Method{Kind: session.IDToken, IDToken: sessiontest.IDToken("alice"), Identity: "deploy"},
		session.WithCache(cache), session.WithHTTPClient(reg.Client()))
	if err != nil {
		t.Fatalf("Login() = %v", err)
	}
	if res.Subject != "alice" || res.Entry.Identity != "deploy" || res.Registry.Host != sessiontest.Host {
		t.Errorf("Login() = %+v", res)
	}
	if got, err := cache.Get(sessiontest.Host); err != nil || got.Token != sessiontest.SessionToken {
		t.Errorf("cache.Get() = %v, %v", got, err)
	}
}

func TestLoginAmbientNone(t *testing.T) {
	reg := sessiontest.New(t)
	_, err := session.Login(context.Background(), sessiontest.URL, session.Method{Kind: session.Ambient},
		session.WithCache(openCache(t)), session.WithHTTPClient(reg.Client()), session.WithAmbientEnv(sessiontest.Env{}))
	if !errors.Is(err, ambient.ErrNone) {
		t.Errorf("Login(ambient) = %v, want ambient.ErrNone", err)
	}
}

func TestAccessToken(t *testing.T) {
	reg := sessiontest.New(t)
	tok, exp, err := session.AccessToken(context.Background(), sessiontest.Host,
		tokencache.Entry{Kind: tokencache.KindSession, Token: sessiontest.SessionToken},
		[]string{"repository:acme/app:pull,push"}, session.WithHTTPClient(reg.Client()))
	if err != nil || tok != sessiontest.AccessToken || exp.IsZero() {
		t.Fatalf("AccessToken() = %q, %v, %v", tok, exp, err)
	}
	if want := "scope=repository%3Aacme%2Fapp%3Apull%2Cpush&service=registry.test"; reg.TokenQueries[0] != want {
		t.Errorf("query = %q, want %q", reg.TokenQueries[0], want)
	}
	_, _, err = session.AccessToken(context.Background(), sessiontest.Host,
		tokencache.Entry{Token: "wrong"}, nil, session.WithHTTPClient(reg.Client()))
	if !errors.Is(err, session.ErrUnauthorized) {
		t.Errorf("AccessToken(wrong) = %v, want ErrUnauthorized", err)
	}
}
