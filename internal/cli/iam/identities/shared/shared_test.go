package shared

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

func TestTokenSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte(" from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		env      map[string]string
		want     string
		wantAuth bool
	}{
		{name: "env", env: map[string]string{EnvToken: "from-env\n"}, want: "from-env"},
		{name: "file beats env", file: file, env: map[string]string{EnvToken: "from-env"}, want: "from-file"},
		{name: "missing", wantAuth: true},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Remote{TokenFile: tt.file}
			got, err := r.TokenSource(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })()
			if tt.wantAuth {
				var ae *cmdutil.AuthError
				var he *cmdutil.HintError
				if !errors.As(err, &ae) || !errors.As(err, &he) || !strings.Contains(he.Hint, "CHAINCTL_TOKEN") {
					t.Fatalf("token() = %v, want an AuthError with a hint", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("token() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	tok := func() (string, error) { return "t", nil }
	tests := []struct {
		name, registry, wantErr string
	}{
		{name: "https", registry: "https://r.example.com"},
		{name: "loopback http", registry: "http://127.0.0.1:5000"},
		{name: "no registry", registry: "", wantErr: "no registry"},
		{name: "http elsewhere", registry: "http://r.example.com", wantErr: "plain http"},
		{name: "not a URL", registry: "r.example.com", wantErr: "want http(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Connect(nil, tt.registry, tok)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Connect(%q) = %v, want error %q", tt.registry, err, tt.wantErr)
			}
		})
	}
}

func TestMapError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		id       string
		want     string
		wantAuth bool
	}{
		{name: "401", err: &APIError{Status: 401, Code: "unauthorized", Message: "expired"}, want: "expired", wantAuth: true},
		{name: "403", err: &APIError{Status: 403, Code: "forbidden", Message: "not owner"}, want: "not owner", wantAuth: true},
		{name: "404", err: &APIError{Status: 404, Code: "not_found", Message: "x"}, id: "ci", want: `no identity "ci"`},
		{name: "409", err: &APIError{Status: 409, Code: "conflict", Message: "taken"}, want: "taken"},
		{name: "no body", err: &APIError{Status: http.StatusBadGateway}, want: "Bad Gateway"},
		{name: "other", err: errors.New("dial"), want: "dial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MapError(tt.err, tt.id)
			var ae *cmdutil.AuthError
			if !strings.Contains(got.Error(), tt.want) || errors.As(got, &ae) != tt.wantAuth {
				t.Errorf("MapError(%v) = %v (%T), want %q, AuthError %v", tt.err, got, got, tt.want, tt.wantAuth)
			}
		})
	}
}
