package credhelper

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// TestCacheResolve checks when "get" falls back to the Resolver: only for
// the configured default registry or a host with a cache entry, never when
// the cache answers.
func TestCacheResolve(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, open := openTemp(t)
	tc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	put := func(host string, e tokencache.Entry) {
		t.Helper()
		if err := tc.Put(host, e); err != nil {
			t.Fatal(err)
		}
	}
	put("warm.example", tokencache.Entry{Kind: tokencache.KindSession, Token: "warm", Expiry: now.Add(time.Hour)})
	put("expired.example", tokencache.Entry{Kind: tokencache.KindSession, Token: "old", Expiry: now.Add(time.Minute)})

	var calls []string
	ambient := true // whether the resolver finds ambient credentials
	resolve := func(_ context.Context, registry string, _ *tokencache.Cache, minLife time.Duration) (tokencache.Entry, error) {
		calls = append(calls, registry)
		if minLife != tokencache.DefaultMinLife {
			t.Errorf("resolver got minLife %v", minLife)
		}
		if !ambient {
			r, _ := session.ParseRegistry(registry)
			return tokencache.Entry{}, &session.LoginRequiredError{Host: r.Host}
		}
		return tokencache.Entry{Kind: tokencache.KindSession, Token: "fresh-" + registry, Expiry: now.Add(time.Hour)}, nil
	}
	c := NewCache(open, WithClock(func() time.Time { return now }),
		WithResolver(resolve, func(host string) string {
			if host == "default.example:5000" {
				return "https://default.example:5000"
			}
			return ""
		}))

	tests := []struct {
		name, server, wantSecret, wantErr, wantCall string
	}{
		{name: "warm cache, no resolver call", server: "warm.example", wantSecret: "warm"},
		{name: "default registry, empty cache", server: "default.example:5000", wantSecret: "fresh-https://default.example:5000", wantCall: "https://default.example:5000"},
		{name: "expired entry renewed", server: "https://expired.example", wantSecret: "fresh-expired.example", wantCall: "expired.example"},
		{name: "unconfigured host", server: "other.example", wantErr: ErrNotFound.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = nil
			user, secret, err := c.Get(t.Context(), tt.server)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Get = %q, %v, want error %q", user, err, tt.wantErr)
				}
			} else if err != nil || user != SessionUsername || secret != tt.wantSecret {
				t.Fatalf("Get = %q, %q, %v, want _token %q", user, secret, err, tt.wantSecret)
			}
			if want := tt.wantCall; (want == "") != (len(calls) == 0) || (want != "" && calls[0] != want) {
				t.Errorf("resolver calls = %q, want %q", calls, want)
			}
		})
	}

	ambient = false
	_, _, err = c.Get(t.Context(), "expired.example")
	if err == nil || !strings.Contains(err.Error(), "has expired; run `chainctl auth login --registry expired.example`") {
		t.Errorf("expired, nothing to renew: %v", err)
	}
	_, _, err = c.Get(t.Context(), "default.example:5000")
	if !errors.Is(err, session.ErrLoginRequired) || !strings.Contains(err.Error(), "chainctl auth login") {
		t.Errorf("default registry, nothing cached, no ambient: %v", err)
	}
}
