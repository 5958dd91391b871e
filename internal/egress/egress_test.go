package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestIsPublic(t *testing.T) {
	tests := map[string]bool{
		"8.8.8.8":              true,
		"1.1.1.1":              true,
		"2606:4700::1111":      true,
		"127.0.0.1":            false,
		"127.8.9.10":           false,
		"::1":                  false,
		"::ffff:127.0.0.1":     false, // IPv4-mapped loopback
		"::ffff:10.0.0.1":      false,
		"::ffff:8.8.8.8":       true, // IPv4-mapped public
		"10.1.2.3":             false,
		"172.16.0.1":           false,
		"192.168.1.1":          false,
		"169.254.169.254":      false, // cloud metadata
		"fe80::1":              false,
		"fd00:ec2::254":        false, // AWS metadata over IPv6 (ULA)
		"100.100.100.200":      false, // CGNAT range; Alibaba metadata
		"100.64.0.1":           false,
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
		if got := IsPublic(netip.MustParseAddr(s)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", s, got, want)
		}
	}
	if IsPublic(netip.Addr{}) {
		t.Error("IsPublic(zero Addr) = true, want false")
	}
}

func TestRefuseNonPublic(t *testing.T) {
	for _, tt := range []struct {
		address string
		wantErr string // "" for no error
	}{
		{"8.8.8.8:443", ""},
		{"[2606:4700::1111]:443", ""},
		{"127.0.0.1:443", "non-public address: 127.0.0.1"},
		{"[::1]:8443", "non-public address: ::1"},
		{"[::ffff:169.254.169.254]:80", "non-public address: 169.254.169.254"},
		{"10.0.0.1:80", "non-public address: 10.0.0.1"},
		{"example.com:443", "not an IP address and port"},
		{"8.8.8.8", "not an IP address and port"},
	} {
		err := RefuseNonPublic("tcp", tt.address, nil)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("RefuseNonPublic(%q) = %v, want nil", tt.address, err)
			}
			continue
		}
		if !errors.Is(err, ErrNotPublic) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("RefuseNonPublic(%q) = %v, want ErrNotPublic with %q", tt.address, err, tt.wantErr)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, tt := range []struct {
		url          string
		requireHTTPS bool
		wantErr      string // "" for no error
		notPublic    bool   // the error must wrap ErrNotPublic
	}{
		{url: "https://token.actions.githubusercontent.com", requireHTTPS: true},
		{url: "https://gitlab.example.com/", requireHTTPS: true},
		{url: "https://hooks.example.com:8443/chainctl?x=1", requireHTTPS: true},
		{url: "https://8.8.8.8/", requireHTTPS: true},
		{url: "https://[2606:4700::1111]:443/", requireHTTPS: true},
		{url: "https://1.example.com", requireHTTPS: true},
		{url: "http://hooks.example.com/", requireHTTPS: false},
		{url: "https://hooks.example.com/", requireHTTPS: false},

		{url: "http://idp.example.com", requireHTTPS: true, wantErr: "scheme must be https"},
		{url: "ftp://idp.example.com", requireHTTPS: false, wantErr: "scheme must be http or https"},
		{url: "idp.example.com/path", requireHTTPS: false, wantErr: "scheme must be http or https"},
		{url: "", requireHTTPS: true, wantErr: "scheme must be https"},
		{url: "https://[::1", requireHTTPS: true, wantErr: "missing ']' in host"},
		{url: "https://", requireHTTPS: true, wantErr: "no host"},
		{url: "https:///keys", requireHTTPS: true, wantErr: "no host"},
		{url: "https:opaque", requireHTTPS: true, wantErr: "no host"},

		{url: "https://localhost:8443", requireHTTPS: true, wantErr: "localhost is a loopback name", notPublic: true},
		{url: "http://LocalHost/", requireHTTPS: false, wantErr: "localhost is a loopback name", notPublic: true},
		{url: "https://localhost./", requireHTTPS: true, wantErr: "loopback name", notPublic: true},
		{url: "https://app.localhost", requireHTTPS: true, wantErr: "app.localhost is a loopback name", notPublic: true},
		{url: "https://127.0.0.1", requireHTTPS: true, wantErr: "non-public address: 127.0.0.1", notPublic: true},
		{url: "https://127.0.0.1./", requireHTTPS: true, wantErr: "non-public address: 127.0.0.1", notPublic: true},
		{url: "https://[::1]:443", requireHTTPS: true, wantErr: "non-public address: ::1", notPublic: true},
		{url: "https://[::ffff:10.0.0.1]/", requireHTTPS: true, wantErr: "non-public address: 10.0.0.1", notPublic: true},
		{url: "https://[fe80::1%25eth0]/", requireHTTPS: true, wantErr: "non-public address: fe80::1%eth0", notPublic: true},
		{url: "https://10.1.2.3", requireHTTPS: true, wantErr: "non-public address: 10.1.2.3", notPublic: true},
		{url: "https://192.168.0.10/idp", requireHTTPS: true, wantErr: "non-public address: 192.168.0.10", notPublic: true},
		{url: "http://169.254.169.254/latest/meta-data/", requireHTTPS: false, wantErr: "non-public address: 169.254.169.254", notPublic: true},
		{url: "https://100.64.0.1", requireHTTPS: true, wantErr: "non-public address: 100.64.0.1", notPublic: true},
		{url: "https://0.0.0.0", requireHTTPS: true, wantErr: "non-public address: 0.0.0.0", notPublic: true},
		{url: "https://[fd00:ec2::254]/", requireHTTPS: true, wantErr: "non-public address: fd00:ec2::254", notPublic: true},

		{url: "https://127.1/", requireHTTPS: true, wantErr: "is neither a DNS name nor an IP address in standard form"},
		{url: "https://2130706433/", requireHTTPS: true, wantErr: "neither a DNS name"},
		{url: "https://0x7f000001/", requireHTTPS: true, wantErr: "neither a DNS name"},
		{url: "https://0177.0.0.1/", requireHTTPS: true, wantErr: "neither a DNS name"},
	} {
		err := CheckURL(tt.url, tt.requireHTTPS)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckURL(%q, %v) = %v, want nil", tt.url, tt.requireHTTPS, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckURL(%q, %v) = %v, want an error with %q", tt.url, tt.requireHTTPS, err, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), `url "`+tt.url+`"`) {
			t.Errorf("CheckURL(%q, %v) = %v, want it to name the URL", tt.url, tt.requireHTTPS, err)
		}
		if errors.Is(err, ErrNotPublic) != tt.notPublic {
			t.Errorf("CheckURL(%q, %v) = %v, wraps ErrNotPublic: %v, want %v", tt.url, tt.requireHTTPS, err, !tt.notPublic, tt.notPublic)
		}
	}
}
