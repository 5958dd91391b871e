package api_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestRemoteResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("tok", " from-file\n")
	empty := write("empty", "")
	spaced := write("spaced", "two words\n")
	big := write("big", strings.Repeat("x", 64<<10+1))
	notLoggedIn := &cmdutil.AuthError{Err: &cmdutil.HintError{Err: errors.New("not logged in"), Hint: "run `chainctl auth login`"}}
	tests := []struct {
		name         string
		args         []string
		env          map[string]string
		session      error // what the login session answers; nil: "from-session"
		wantRegistry string
		want         string
		wantAuth     bool   // an AuthError with a hint naming the three sources
		wantErr      string // from the token, not an AuthError
		wantResolve  string // from Resolve
	}{
		{name: "login session", args: []string{"--registry", "registry.example.com"}, wantRegistry: "https://registry.example.com", want: "from-session"},
		{name: "env token", args: []string{"--registry", "https://r.example"}, env: map[string]string{api.EnvToken: "from-env\n"}, wantRegistry: "https://r.example", want: "from-env"},
		{name: "file beats env", args: []string{"--registry", "https://r.example", "--token-file", file}, env: map[string]string{api.EnvToken: "from-env"}, wantRegistry: "https://r.example", want: "from-file"},
		{name: "missing file", args: []string{"--token-file", filepath.Join(dir, "nope")}, wantRegistry: apitest.URL, wantAuth: true},
		{name: "empty file", args: []string{"--token-file", empty}, wantRegistry: apitest.URL, wantAuth: true},
		{name: "token with spaces", args: []string{"--token-file", spaced}, wantRegistry: apitest.URL, wantAuth: true},
		{name: "file too large", args: []string{"--token-file", big}, wantRegistry: apitest.URL, wantErr: "larger than 65536 bytes"},
		{name: "not logged in", session: notLoggedIn, wantRegistry: apitest.URL, wantAuth: true},
		{name: "registry from env", env: map[string]string{"CHAINCTL_REGISTRY": "127.0.0.1:5000"}, wantRegistry: "http://127.0.0.1:5000", want: "from-session"},
		{name: "registry from user config", wantRegistry: apitest.URL, want: "from-session"},
		{name: "bad registry", args: []string{"--registry", "http://r.example"}, wantResolve: "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputJSON, tt.env)
			var asked string
			f.Session = func(_ context.Context, reg session.Registry) (tokencache.Entry, error) {
				asked = reg.URL
				if tt.session != nil {
					return tokencache.Entry{}, tt.session
				}
				return tokencache.Entry{Token: "from-session"}, nil
			}
			var r api.Remote
			parse(t, &r, tt.args)
			err := r.Resolve(f)
			if tt.wantResolve != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantResolve) {
					t.Fatalf("Resolve() = %v, want error %q", err, tt.wantResolve)
				}
				return
			}
			if err != nil || r.Registry != tt.wantRegistry || r.Output != cmdutil.OutputJSON {
				t.Fatalf("Resolve() = %v; Registry, Output = %q, %q, want %q, json", err, r.Registry, r.Output, tt.wantRegistry)
			}
			if asked != "" {
				t.Fatalf("Resolve() asked for the login session before a request")
			}
			got, err := r.Token(t.Context())
			switch {
			case tt.wantAuth:
				var ae *cmdutil.AuthError
				var he *cmdutil.HintError
				if !errors.As(err, &ae) || !errors.As(err, &he) || !strings.Contains(he.Hint, "chainctl auth login") {
					t.Fatalf("Token() = %v, want an AuthError with a login hint", err)
				}
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Token() = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Token() = %q, %v, want %q", got, err, tt.want)
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

// TestRemoteResolveHint is the hint of a token file that cannot be read,
// word for word: it names the registry's login command.
func TestRemoteResolveHint(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var r api.Remote
	parse(t, &r, []string{"--registry", "r.example.com", "--token-file", "/nonexistent/token"})
	if err := r.Resolve(apitest.Factory(ios, "", nil)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Token(t.Context())
	var he *cmdutil.HintError
	if !errors.As(err, &he) || he.Hint != "set --token-file or $CHAINCTL_TOKEN, or run `chainctl auth login --registry r.example.com`" ||
		!strings.HasPrefix(err.Error(), "read session token: open /nonexistent/token") {
		t.Errorf("Token() = %v, want the token file's error and hint", err)
	}
}

func TestConnect(t *testing.T) {
	tests := []struct {
		name, registry string
		tokenErr       error
		wantErr        string
		wantAsked      bool
	}{
		{name: "https", registry: "https://r.example.com", wantAsked: true},
		{name: "loopback http", registry: "http://127.0.0.1:5000", wantAsked: true},
		{name: "no registry", registry: "", wantErr: "no registry"},
		{name: "http elsewhere", registry: "http://r.example.com", wantErr: "plain http"},
		{name: "not a URL", registry: "r.example.com", wantErr: "want http(s)"},
		{name: "no session", registry: "https://r.example.com", tokenErr: errors.New("not logged in"), wantErr: "not logged in", wantAsked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := false
			r := api.Remote{Registry: tt.registry, Token: func(context.Context) (string, error) {
				asked = true
				return "t", tt.tokenErr
			}, HTTPClient: func() (*http.Client, error) { return &http.Client{Transport: failing{}}, nil }}
			c, err := r.Connect(t.Context())
			if tt.wantErr == "" && (err != nil || c == nil) || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Connect(%q) = %v, want error %q", tt.registry, err, tt.wantErr)
			}
			if asked != tt.wantAsked {
				t.Errorf("Connect(%q) looked for the token: %v, want %v", tt.registry, asked, tt.wantAsked)
			}
		})
	}
}

func TestMapError(t *testing.T) {
	text := api.ErrorText{Forbidden: "ask an owner", NotFound: `no thing "x"`}
	tests := []struct {
		name     string
		err      error
		text     api.ErrorText
		want     string
		wantAuth bool
		wantHint string
	}{
		{name: "401", err: &api.Error{Status: 401, Message: "expired"}, text: text, want: "the registry refused the session token: expired", wantAuth: true,
			wantHint: "the session may have ended: run `chainctl auth login`, or check --token-file and $CHAINCTL_TOKEN"},
		{name: "403", err: &api.Error{Status: 403}, text: text, want: "permission denied: Forbidden", wantAuth: true, wantHint: "ask an owner"},
		{name: "404 named", err: &api.Error{Status: 404, Message: "x"}, text: text, want: `no thing "x"`},
		{name: "404 unnamed", err: &api.Error{Status: 404, Message: "no such route"}, want: "no such route"},
		{name: "other status", err: &api.Error{Status: 400, Code: "invalid", Message: "bad roles"}, text: text, want: "bad roles"},
		{name: "wrapped", err: errors.Join(errors.New("list"), &api.Error{Status: 409, Message: "busy"}), want: "busy"},
		{name: "not an API error", err: errors.New("dial tcp: refused"), text: text, want: "dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := api.MapError(tt.err, tt.text)
			var ae *cmdutil.AuthError
			if got.Error() != tt.want || errors.As(got, &ae) != tt.wantAuth {
				t.Errorf("MapError(%v) = %q (%T), want %q, AuthError %v", tt.err, got, got, tt.want, tt.wantAuth)
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(got, &he) || he.Hint != tt.wantHint) {
				t.Errorf("MapError(%v) = %v, want hint %q", tt.err, got, tt.wantHint)
			}
		})
	}
}

// TestRemoteResolveWith: a command with its own --registry resolves it
// as the others do, and the session is the login session.
func TestRemoteResolveWith(t *testing.T) {
	tests := []struct {
		name, flag string
		env        map[string]string
		want       string
	}{
		{name: "flag", flag: "r.example.com", env: map[string]string{"CHAINCTL_REGISTRY": "e.example.com"}, want: "https://r.example.com"},
		{name: "env", env: map[string]string{"CHAINCTL_REGISTRY": "127.0.0.1:5000"}, want: "http://127.0.0.1:5000"},
		{name: "user config", want: apitest.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var r api.Remote
			if err := r.ResolveWith(apitest.Factory(ios, "", tt.env), tt.flag); err != nil || r.Registry != tt.want {
				t.Fatalf("ResolveWith(%q) = %v, Registry %q, want %q", tt.flag, err, r.Registry, tt.want)
			}
			if tok, err := r.Token(t.Context()); err != nil || tok != apitest.Token {
				t.Errorf("Token() = %q, %v, want the login session's", tok, err)
			}
		})
	}
}
