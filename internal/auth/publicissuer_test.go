package auth

import "testing"

func TestPublicIssuer(t *testing.T) {
	tests := []struct {
		issuer string
		ok     bool
	}{
		{"https://token.actions.githubusercontent.com", true},
		{"https://gitlab.example.com/", true},
		{"http://idp.example.com", false},
		{"https://localhost:8443", false},
		{"https://app.localhost", false},
		{"https://127.0.0.1", false},
		{"https://[::1]:443", false},
		{"https://10.1.2.3", false},
		{"https://192.168.0.10/idp", false},
		{"https://169.254.169.254", false},
		{"https://0.0.0.0", false},
		{"https://8.8.8.8", true},
	}
	for _, tt := range tests {
		if err := publicIssuer(tt.issuer); (err == nil) != tt.ok {
			t.Errorf("publicIssuer(%q) = %v, want ok %v", tt.issuer, err, tt.ok)
		}
	}
}
