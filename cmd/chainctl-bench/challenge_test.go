package main

import (
	"strings"
	"testing"
)

func TestBearerChallenge(t *testing.T) {
	tests := []struct {
		name           string
		values         []string
		realm, service string
		wantErr        string
	}{
		{
			name:    "chainctl",
			values:  []string{`Bearer realm="http://127.0.0.1:5000/token",service="127.0.0.1:5000",scope="repository:a/b:pull,push",error="insufficient_scope"`},
			realm:   "http://127.0.0.1:5000/token",
			service: "127.0.0.1:5000",
		},
		{
			name:    "lower-case scheme, spaces, token values",
			values:  []string{`bearer  realm = "https://r.test/token" ,  service=r.test`},
			realm:   "https://r.test/token",
			service: "r.test",
		},
		{
			name:    "after another challenge in the same value",
			values:  []string{`Basic realm="registry", Bearer realm="https://r.test/token", service="r.test"`},
			realm:   "https://r.test/token",
			service: "r.test",
		},
		{
			name:   "in a second header value",
			values: []string{`Basic realm="x"`, `Bearer realm="https://r.test/token"`},
			realm:  "https://r.test/token",
		},
		{
			name:    "escaped quote",
			values:  []string{`Bearer realm="https://r.test/token",service="a\"b"`},
			realm:   "https://r.test/token",
			service: `a"b`,
		},
		{
			name:   "after a token68 challenge",
			values: []string{`Negotiate abc==, Bearer realm="https://r.test/token"`},
			realm:  "https://r.test/token",
		},
		{name: "no realm", values: []string{`Bearer service="r.test"`}, wantErr: "without a realm"},
		{name: "basic only", values: []string{`Basic realm="r.test"`}, wantErr: "no bearer challenge"},
		{name: "none", values: nil, wantErr: "no bearer challenge"},
		{name: "garbage", values: []string{`=,,"\`}, wantErr: "no bearer challenge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			realm, service, err := bearerChallenge(tt.values)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("bearerChallenge(%q) = %v, want an error containing %q", tt.values, err, tt.wantErr)
				}
				return
			}
			if err != nil || realm != tt.realm || service != tt.service {
				t.Errorf("bearerChallenge(%q) = %q, %q, %v; want %q, %q", tt.values, realm, service, err, tt.realm, tt.service)
			}
		})
	}
}
