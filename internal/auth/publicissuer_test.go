package auth

import (
	"strings"
	"testing"
)

func TestPublicIssuer(t *testing.T) {
	const (
		serverConfig = "can only be configured in the server configuration, or the identity must carry issuer_keys"
		mustBeHTTPS  = "must name a public https issuer, or carry issuer_keys"
	)
	tests := []struct {
		issuer  string
		wantErr string // "" for accepted
	}{
		{"https://token.actions.githubusercontent.com", ""},
		{"https://gitlab.example.com/", ""},
		{"https://8.8.8.8", ""},
		{"http://idp.example.com", mustBeHTTPS},
		{"idp.example.com", mustBeHTTPS},
		{"https://", mustBeHTTPS},
		{"https://127.1", mustBeHTTPS},
		{"https://localhost:8443", serverConfig},
		{"https://app.localhost", serverConfig},
		{"https://127.0.0.1", serverConfig},
		{"https://[::1]:443", serverConfig},
		{"https://10.1.2.3", serverConfig},
		{"https://192.168.0.10/idp", serverConfig},
		{"https://169.254.169.254", serverConfig},
		{"https://0.0.0.0", serverConfig},
		// Refused since the check is egress.CheckURL's: CGNAT, cloud
		// metadata, IPv4-mapped and other special-purpose addresses.
		{"https://100.64.0.1", serverConfig},
		{"https://100.100.100.200", serverConfig},
		{"https://[fd00:ec2::254]", serverConfig},
		{"https://[::ffff:10.0.0.1]", serverConfig},
		{"https://198.18.0.1", serverConfig},
	}
	for _, tt := range tests {
		err := publicIssuer(tt.issuer)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("publicIssuer(%q) = %v, want nil", tt.issuer, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.issuer) {
			t.Errorf("publicIssuer(%q) = %v, want an error naming the issuer, with %q", tt.issuer, err, tt.wantErr)
		}
	}
}
