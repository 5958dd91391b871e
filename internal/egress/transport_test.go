package egress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPublicOnlyDirect checks that, without a proxy, requests to loopback
// are refused before anything is sent, whether the URL names the IP or a
// host name resolving to it, and that the transport wrapped is left as it
// was: it still reaches the server.
func TestPublicOnlyDirect(t *testing.T) {
	var requests atomic.Int64
	count := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { requests.Add(1) })
	tlsSrv := httptest.NewTLSServer(count)
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(count)
	defer plainSrv.Close()

	for _, tt := range []struct {
		name string
		base http.RoundTripper
		url  string
	}{
		{"tls, IP", tlsSrv.Client().Transport, tlsSrv.URL},
		{"tls, name resolving to loopback", tlsSrv.Client().Transport, strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1)},
		{"nil base, IP", nil, plainSrv.URL},
		{"nil base, name resolving to loopback", nil, strings.Replace(plainSrv.URL, "127.0.0.1", "localhost", 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.url, "127.0.0.1") && !strings.Contains(tt.url, "localhost") {
				t.Fatalf("test server %s is not on loopback", tt.url)
			}
			before := requests.Load()
			client := &http.Client{Transport: PublicOnly(tt.base, WithDialTimeout(5*time.Second)), Timeout: 5 * time.Second}
			resp, err := client.Get(tt.url + "/hook")
			if resp != nil {
				resp.Body.Close()
			}
			// "localhost" may resolve to ::1 as well as 127.0.0.1; either is refused.
			named := err != nil && (strings.Contains(err.Error(), "non-public address: 127.0.0.1") || strings.Contains(err.Error(), "non-public address: ::1"))
			if !errors.Is(err, ErrNotPublic) || !named {
				t.Errorf("GET %s = %v, want ErrNotPublic naming the refused address", tt.url, err)
			}
			if n := requests.Load() - before; n != 0 {
				t.Errorf("the server received %d requests, want 0", n)
			}

			// The unguarded transport, the same one that was wrapped, does
			// reach it: the refusal above is the guard's doing. (By IP: the
			// test certificate does not name localhost.)
			base := tt.base
			if base == nil {
				base = http.DefaultTransport
			}
			byIP := strings.Replace(tt.url, "localhost", "127.0.0.1", 1)
			resp, err = (&http.Client{Transport: base, Timeout: 5 * time.Second}).Get(byIP + "/hook")
			if err != nil {
				t.Fatalf("unguarded GET %s = %v", byIP, err)
			}
			resp.Body.Close()
			if n := requests.Load() - before; n != 1 {
				t.Errorf("the server received %d requests through the unguarded transport, want 1", n)
			}
		})
	}
}

func TestPublicOnlyRefusesCustomTransport(t *testing.T) {
	rt := PublicOnly(roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("the custom transport was used")
		return nil, errors.New("unreachable")
	}))
	req, _ := http.NewRequest(http.MethodGet, "https://issuer.example/", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, ErrNotPublic) {
		t.Errorf("RoundTrip() = %v, want ErrNotPublic", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPublicOnlyThroughProxy checks the proxied path: the target's name is
// resolved and checked before the proxy is asked to connect, the proxy
// itself (on loopback here, as egress proxies are on private addresses) is
// reachable, and a request the proxy function exempts (NO_PROXY) is dialled
// directly with the guarded dialer.
func TestPublicOnlyThroughProxy(t *testing.T) {
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connects = append(connects, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "no upstream in tests", http.StatusBadGateway)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	direct := httptest.NewTLSServer(http.NotFoundHandler())
	defer direct.Close()
	directByName := strings.Replace(direct.URL, "127.0.0.1", "localhost", 1)

	names := map[string]string{"public.test": "8.8.8.8", "inward.test": "10.0.0.5", "mixed.test": "8.8.4.4 169.254.169.254"}
	resolve := func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range strings.Fields(names[host]) {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
	base := &http.Transport{Proxy: func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "localhost" { // as NO_PROXY=localhost would
			return nil, nil
		}
		return proxyURL, nil
	}}
	client := &http.Client{Transport: PublicOnly(base, WithResolver(resolve)), Timeout: 5 * time.Second}

	for _, tt := range []struct {
		url         string
		wantConnect string // what the proxy must be asked; "" for nothing
		wantRefused bool
		wantErr     string // part of the error, if any
	}{
		{"https://public.test/.well-known/openid-configuration", "CONNECT public.test:443", false, ""},
		{"https://inward.test/.well-known/openid-configuration", "", true, "inward.test resolves to 10.0.0.5"},
		{"https://mixed.test/.well-known/openid-configuration", "", true, "mixed.test resolves to 169.254.169.254"},
		{"https://10.1.2.3:8443/keys", "", true, "10.1.2.3 resolves to 10.1.2.3"},
		{directByName + "/keys", "", true, ""}, // exempt from the proxy: the guarded dialer refuses 127.0.0.1
		{"https://unknown.test/keys", "", false, "resolve unknown.test: no addresses"},
	} {
		mu.Lock()
		connects = nil
		mu.Unlock()
		resp, err := client.Get(tt.url)
		if resp != nil {
			resp.Body.Close()
		}
		if refused := errors.Is(err, ErrNotPublic); refused != tt.wantRefused {
			t.Errorf("GET %s = %v, want refused %v", tt.url, err, tt.wantRefused)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("GET %s = %v, want an error with %q", tt.url, err, tt.wantErr)
		}
		mu.Lock()
		got := strings.Join(connects, ", ")
		mu.Unlock()
		if got != tt.wantConnect {
			t.Errorf("GET %s: the proxy was asked %q, want %q", tt.url, got, tt.wantConnect)
		}
	}
}
