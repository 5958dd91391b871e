package shared

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/session"
)

func TestRemoteResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte(" from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	notLoggedIn := &cmdutil.AuthError{Err: &cmdutil.HintError{Err: errors.New("not logged in"), Hint: "run `chainctl auth login`"}}
	tests := []struct {
		name         string
		registry     string // --registry
		file         string
		env          map[string]string
		config       string // the user configuration's registry
		session      error  // what the login session answers; nil: "from-session"
		wantRegistry string
		want         string
		wantAuth     bool
		wantErr      string // from Resolve
	}{
		{name: "login session", registry: "registry.example.com", wantRegistry: "https://registry.example.com", want: "from-session"},
		{name: "env token", registry: "https://r.example", env: map[string]string{EnvToken: "from-env\n"}, wantRegistry: "https://r.example", want: "from-env"},
		{name: "file beats env", registry: "https://r.example", file: file, env: map[string]string{EnvToken: "from-env"}, wantRegistry: "https://r.example", want: "from-file"},
		{name: "missing file", registry: "https://r.example", file: filepath.Join(dir, "nope"), wantRegistry: "https://r.example", wantAuth: true},
		{name: "empty file", registry: "https://r.example", file: empty, wantRegistry: "https://r.example", wantAuth: true},
		{name: "not logged in", registry: "https://r.example", session: notLoggedIn, wantRegistry: "https://r.example", wantAuth: true},
		{name: "registry from env", env: map[string]string{"CHAINCTL_REGISTRY": "127.0.0.1:5000"}, config: "other.example", wantRegistry: "http://127.0.0.1:5000", want: "from-session"},
		{name: "registry from user config", config: "r.example:8443", wantRegistry: "https://r.example:8443", want: "from-session"},
		{name: "no registry", wantErr: "no registry"},
		{name: "bad registry", registry: "http://r.example", wantErr: "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			r := &Remote{
				Registry: tt.registry, TokenFile: tt.file,
				UserConfig: func() (config.User, error) { return config.User{Registry: tt.config}, nil },
				Session: func(_ context.Context, reg session.Registry) (string, error) {
					asked = reg.URL
					if tt.session != nil {
						return "", tt.session
					}
					return "from-session", nil
				},
			}
			reg, token, err := r.Resolve(t.Context(), func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve() = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || reg != tt.wantRegistry {
				t.Fatalf("Resolve() = %q, %v, want %q", reg, err, tt.wantRegistry)
			}
			got, err := token()
			if tt.wantAuth {
				var ae *cmdutil.AuthError
				var he *cmdutil.HintError
				if !errors.As(err, &ae) || !errors.As(err, &he) || !strings.Contains(he.Hint, "chainctl auth login") {
					t.Fatalf("token() = %v, want an AuthError with a login hint", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("token() = %q, %v, want %q", got, err, tt.want)
			}
			if tt.want == "from-session" && asked != tt.wantRegistry {
				t.Errorf("the login session was asked for %q, want %q", asked, tt.wantRegistry)
			}
			if tt.want != "from-session" && asked != "" {
				t.Errorf("the login session was asked for although a token was given")
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
