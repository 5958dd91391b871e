package tokencache

import (
	"errors"
	"strings"
	"testing"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		name string
		host string
		want string // "" means the host must be refused
	}{
		{name: "plain", host: "registry.example.com", want: "registry.example.com"},
		{name: "upper case folds", host: "Registry.Example.COM", want: "registry.example.com"},
		{name: "ipv4 with port", host: "127.0.0.1:5000", want: "127.0.0.1_3a5000"},
		{name: "ipv6 with port", host: "[::1]:5000", want: "_5b_3a_3a1_5d_3a5000"},
		{name: "ipv6 without port", host: "[::1]", want: "_5b_3a_3a1_5d"},
		{name: "localhost", host: "localhost", want: "localhost"},
		{name: "underscore escaped", host: "my_host:80", want: "my_5fhost_3a80"},
		{name: "windows device name", host: "con", want: "_63on"},
		{name: "windows device name label", host: "nul.example.com", want: "_6eul.example.com"},
		{name: "windows com port", host: "com1:5000", want: "_63om1_3a5000"},
		{name: "not a device name", host: "console.example.com", want: "console.example.com"},
		{name: "empty", host: ""},
		{name: "dot", host: "."},
		{name: "dot dot", host: ".."},
		{name: "traversal", host: "../../etc/passwd"},
		{name: "traversal prefix", host: "../tokens"},
		{name: "windows traversal", host: `..\..\windows`},
		{name: "absolute path", host: "/etc/passwd"},
		{name: "slash", host: "a/b"},
		{name: "backslash", host: `a\b`},
		{name: "url", host: "https://example.com"},
		{name: "path", host: "example.com/v2"},
		{name: "space", host: "a b"},
		{name: "nul byte", host: "a\x00b"},
		{name: "newline", host: "a\nb"},
		{name: "empty label", host: "exa..mple"},
		{name: "trailing dot", host: "example.com."},
		{name: "leading dot", host: ".hidden"},
		{name: "label too long", host: strings.Repeat("a", 64) + ".com"},
		{name: "name too long", host: strings.Repeat("a.", 127) + "a"},
		{name: "empty port", host: "host:"},
		{name: "port zero", host: "host:0"},
		{name: "port too big", host: "host:65536"},
		{name: "port not numeric", host: "host:12a"},
		{name: "port signed", host: "host:+80"},
		{name: "two ports", host: "host:5000:1"},
		{name: "unterminated ipv6", host: "[::1"},
		{name: "junk after ipv6", host: "[::1]x"},
		{name: "ipv6 zone", host: "[fe80::1%eth0]:5000"},
		{name: "ipv4 in brackets", host: "[1.2.3.4]"},
		{name: "bare ipv6", host: "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fileName(tt.host)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidHost) {
					t.Fatalf("fileName(%q) = %q, %v, want ErrInvalidHost", tt.host, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("fileName(%q) = %q, %v, want %q", tt.host, got, err, tt.want)
			}
			if strings.ContainsAny(got, `/\:[]`) || strings.HasPrefix(got, ".") {
				t.Errorf("fileName(%q) = %q, not a safe file name", tt.host, got)
			}
			back, ok := hostFromFileName(got)
			if !ok || back != strings.ToLower(tt.host) {
				t.Errorf("hostFromFileName(%q) = %q, %v, want %q", got, back, ok, strings.ToLower(tt.host))
			}
		})
	}
}

func TestInvalidHostRefusedEverywhere(t *testing.T) {
	c := openTest(t)
	for _, host := range []string{"../x", "..", "a/b", ""} {
		if _, err := c.Get(host); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("Get(%q) = %v, want ErrInvalidHost", host, err)
		}
		if err := c.Put(host, Entry{Kind: KindStored, Token: "t"}); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("Put(%q) = %v, want ErrInvalidHost", host, err)
		}
		if err := c.Delete(host); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidHost", host, err)
		}
		if err := c.WithLock(t.Context(), host, func() error { return nil }); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("WithLock(%q) = %v, want ErrInvalidHost", host, err)
		}
	}
}

func TestHostFromFileNameRejectsForeignNames(t *testing.T) {
	for _, name := range []string{"", "UPPER", "_zz", "_3", "a_2fb", "_2e_2e", "a_3a", "con", ".tmp-123"} {
		if h, ok := hostFromFileName(name); ok {
			t.Errorf("hostFromFileName(%q) = %q, true, want false", name, h)
		}
	}
}
