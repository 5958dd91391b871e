package auth

import "testing"

func TestRealmFor(t *testing.T) {
	tests := []struct {
		name, realm, host, want string
	}{
		{name: "same host", realm: "http://127.0.0.1:5000/token", host: "127.0.0.1:5000", want: "http://127.0.0.1:5000/token"},
		{name: "localhost for 127.0.0.1", realm: "http://127.0.0.1:5000/token", host: "localhost:5000", want: "http://localhost:5000/token"},
		{name: "upper-case localhost", realm: "http://127.0.0.1:5000/token", host: "LOCALHOST:5000", want: "http://localhost:5000/token"},
		{name: "::1 for localhost", realm: "https://localhost:5443/token", host: "[::1]:5443", want: "https://[::1]:5443/token"},
		{name: "another loopback address", realm: "http://127.0.0.1:5000/token", host: "127.0.0.2:5000", want: "http://127.0.0.2:5000/token"},
		{name: "other port", realm: "http://127.0.0.1:5000/token", host: "localhost:5001", want: "http://127.0.0.1:5000/token"},
		{name: "no port", realm: "http://127.0.0.1:5000/token", host: "localhost", want: "http://127.0.0.1:5000/token"},
		{name: "a name that is not loopback", realm: "http://127.0.0.1:5000/token", host: "evil.example:5000", want: "http://127.0.0.1:5000/token"},
		{name: "a private address", realm: "http://127.0.0.1:5000/token", host: "10.0.0.1:5000", want: "http://127.0.0.1:5000/token"},
		{name: "public registry", realm: "https://registry.example.com/token", host: "localhost", want: "https://registry.example.com/token"},
		{name: "public registry reached on loopback", realm: "https://registry.example.com:443/token", host: "localhost:443", want: "https://registry.example.com:443/token"},
		{name: "empty host", realm: "http://127.0.0.1:5000/token", host: "", want: "http://127.0.0.1:5000/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := realmFor(tt.realm, tt.host); got != tt.want {
				t.Errorf("realmFor(%q, %q) = %q, want %q", tt.realm, tt.host, got, tt.want)
			}
		})
	}
}
