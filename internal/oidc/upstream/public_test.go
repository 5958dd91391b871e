package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestIsPublicAddr(t *testing.T) {
	tests := map[string]bool{
		"8.8.8.8":              true,
		"1.1.1.1":              true,
		"2606:4700::1111":      true,
		"127.0.0.1":            false,
		"127.8.9.10":           false,
		"::1":                  false,
		"::ffff:127.0.0.1":     false, // IPv4-mapped loopback
		"::ffff:10.0.0.1":      false,
		"10.1.2.3":             false,
		"172.16.0.1":           false,
		"192.168.1.1":          false,
		"169.254.169.254":      false, // cloud metadata
		"fe80::1":              false,
		"fd00:ec2::254":        false, // AWS metadata over IPv6 (ULA)
		"100.100.100.200":      false, // CGNAT range; Alibaba metadata
		"0.0.0.0":              false,
		"0.1.2.3":              false,
		"::":                   false,
		"224.0.0.1":            false,
		"ff02::1":              false,
		"255.255.255.255":      false,
		"198.18.0.1":           false,
		"64:ff9b::a00:1":       false, // NAT64 of 10.0.0.1
		"2002:a00:1::1":        false, // 6to4 of 10.0.0.1
		"192.0.2.10":           false,
		"2001:db8::1":          false,
		"240.0.0.1":            false,
		"2a00:1450:4001::200e": true,
	}
	for s, want := range tests {
		if got := isPublicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("isPublicAddr(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestVerify_PublicOnly checks that a PublicOnly issuer's fetches refuse to
// connect to loopback, whether its URL names an IP or a host name that
// resolves to one, before any request is sent; the same issuer without
// PublicOnly (as the server configuration may name it) is fetched.
func TestVerify_PublicOnly(t *testing.T) {
	key := newKey(t, jose.ES256, "k1")
	ti := newTestIssuer(t, true, key)
	byName := strings.Replace(ti.issuer, "127.0.0.1", "localhost", 1)
	if byName == ti.issuer {
		t.Fatalf("test issuer %s is not on 127.0.0.1", ti.issuer)
	}

	for _, tt := range []struct {
		name       string
		issuer     Issuer
		wantRefuse bool
	}{
		{"configured", Issuer{URL: ti.issuer}, false},
		{"public only, IP", Issuer{URL: ti.issuer, PublicOnly: true}, true},
		{"public only, name resolving to loopback", Issuer{URL: byName, PublicOnly: true}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := StaticIssuers(tt.issuer)
			if err != nil {
				t.Fatal(err)
			}
			before := ti.requests.Load()
			v := New(WithIssuers(p), WithTransport(ti.Client().Transport), WithFetchTimeout(5*time.Second))
			tok := key.sign(t, claimsFor(tt.issuer.URL, time.Now()), nil)
			_, err = v.Verify(t.Context(), tok, expect(tt.issuer.URL))
			if !tt.wantRefuse {
				if err != nil {
					t.Fatalf("Verify() = %v, want success", err)
				}
				return
			}
			// "localhost" may resolve to ::1 as well as 127.0.0.1; either is refused.
			named := err != nil && (strings.Contains(err.Error(), "non-public address: 127.0.0.1") || strings.Contains(err.Error(), "non-public address: ::1"))
			if err == nil || !errors.Is(err, ErrIssuer) || Retryable(err) || !named {
				t.Errorf("Verify() = %v, want a non-retryable ErrIssuer naming the refused address", err)
			}
			if n := ti.requests.Load() - before; n != 0 {
				t.Errorf("the issuer received %d requests, want 0", n)
			}
		})
	}
}

func TestPublicOnlyTransportRefusesCustomTransport(t *testing.T) {
	rt := publicOnlyTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("the custom transport was used")
		return nil, errors.New("unreachable")
	}), defaultResolver)
	req, _ := http.NewRequest(http.MethodGet, "https://issuer.example/", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, errNotPublic) {
		t.Errorf("RoundTrip() = %v, want errNotPublic", err)
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
	client := &http.Client{Transport: publicOnlyTransport(base, resolve), Timeout: 5 * time.Second}

	for _, tt := range []struct {
		url         string
		wantConnect string // what the proxy must be asked; "" for nothing
		wantRefused bool
	}{
		{"https://public.test/.well-known/openid-configuration", "CONNECT public.test:443", false},
		{"https://inward.test/.well-known/openid-configuration", "", true},
		{"https://mixed.test/.well-known/openid-configuration", "", true},
		{"https://10.1.2.3:8443/keys", "", true},
		{directByName + "/keys", "", true}, // exempt from the proxy: the guarded dialer refuses 127.0.0.1
	} {
		mu.Lock()
		connects = nil
		mu.Unlock()
		resp, err := client.Get(tt.url)
		if resp != nil {
			resp.Body.Close()
		}
		if refused := errors.Is(err, errNotPublic); refused != tt.wantRefused {
			t.Errorf("GET %s = %v, want refused %v", tt.url, err, tt.wantRefused)
		}
		mu.Lock()
		got := strings.Join(connects, ", ")
		mu.Unlock()
		if got != tt.wantConnect {
			t.Errorf("GET %s: the proxy was asked %q, want %q", tt.url, got, tt.wantConnect)
		}
	}
}
