package login

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/oidc/ambient"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/session/sessiontest"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestNewCmdLogin(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		want        LoginOptions
		wantFlagErr bool
	}{
		{name: "defaults", args: nil},
		{name: "all flags", args: []string{"--registry", "r.test", "--headless", "--identity", "ci"},
			want: LoginOptions{RegistryFlag: "r.test", Headless: true, Identity: "ci"}},
		{name: "identity token", args: []string{"--identity-token", "-"}, want: LoginOptions{IdentityToken: "-"}},
		{name: "browser", args: []string{"--browser"}, want: LoginOptions{Browser: true}},
		{name: "dev", args: []string{"--dev", "--registry", "localhost:5000"}, want: LoginOptions{Dev: true, RegistryFlag: "localhost:5000"}},
		{name: "dev with headless", args: []string{"--dev", "--headless"}, wantFlagErr: true},
		{name: "dev with token", args: []string{"--dev", "--identity-token", "x"}, wantFlagErr: true},
		{name: "headless with token", args: []string{"--headless", "--identity-token", "x"}, wantFlagErr: true},
		{name: "browser with headless", args: []string{"--browser", "--headless"}, wantFlagErr: true},
		{name: "browser with token", args: []string{"--browser", "--identity-token", "x"}, wantFlagErr: true},
		{name: "positional", args: []string{"extra"}, wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputTable}}
			var got *LoginOptions
			cmd := NewCmdLogin(f, func(_ context.Context, o *LoginOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
			err := cmd.Execute()
			if tt.wantFlagErr {
				if err == nil {
					t.Fatalf("Execute(%q) = nil, want an error", tt.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if got.RegistryFlag != tt.want.RegistryFlag || got.Headless != tt.want.Headless ||
				got.Identity != tt.want.Identity || got.IdentityToken != tt.want.IdentityToken ||
				got.Browser != tt.want.Browser || got.Dev != tt.want.Dev {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func Test_loginRun(t *testing.T) {
	tests := []struct {
		name      string
		opts      LoginOptions
		tty       bool
		stdin     string
		env       sessiontest.Env
		wantErr   string
		wantAuth  bool
		wantHint  string
		wantOut   []string
		wantJSON  bool
		exchanges int
	}{
		{
			name:      "identity token from stdin",
			opts:      LoginOptions{IdentityToken: "-"},
			stdin:     sessiontest.IDToken("alice") + "\n",
			wantOut:   []string{"Logged in to registry.test as alice", "identity dev-user"},
			exchanges: 1,
		},
		{
			name:      "identity token json",
			opts:      LoginOptions{IdentityToken: sessiontest.IDToken("alice"), Identity: "deploy", Output: cmdutil.OutputJSON},
			wantJSON:  true,
			exchanges: 1,
		},
		{
			name:      "no tty uses ambient",
			env:       sessiontest.Env{ambient.EnvIdentityToken: sessiontest.IDToken("ci-job")},
			wantOut:   []string{"ci-job via identity-token"},
			exchanges: 1,
		},
		{
			name:    "no tty and no ambient",
			env:     sessiontest.Env{},
			wantErr: "no terminal",
		},
		{
			// The registry's provider is not a dev one: nothing is asked
			// of it, and the hint says what --dev is for.
			name:     "dev against a registry without the dev provider",
			opts:     LoginOptions{Dev: true},
			wantErr:  "not the development provider",
			wantHint: "registry serve --dev",
		},
		{
			name:      "refused token is an auth error",
			opts:      LoginOptions{IdentityToken: "x.y.z"},
			wantErr:   "invalid_grant",
			wantAuth:  true,
			wantHint:  "chainctl iam identities test",
			exchanges: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, stdin, stdout, stderr := iostreams.Test()
			ios.SetStdinTTY(tt.tty)
			ios.SetStdoutTTY(tt.tty)
			stdin.WriteString(tt.stdin)
			reg := sessiontest.New(t)
			if tt.wantAuth {
				reg.ExchangeStatus, reg.ExchangeBody = 400, `{"error":"invalid_grant","error_description":"no identity accepts this token"}`
			}
			cache, err := tokencache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.IO = ios
			opts.HTTPClient = reg.HTTPClient
			opts.Cache = func() (*tokencache.Cache, error) { return cache, nil }
			opts.Registry = registryOr(sessiontest.Host)
			opts.Ambient = tt.env
			if opts.Ambient == nil {
				opts.Ambient = sessiontest.Env{}
			}
			err = loginRun(context.Background(), &opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loginRun() = %v, want error containing %q", err, tt.wantErr)
				}
				var ae *cmdutil.AuthError
				if errors.As(err, &ae) != tt.wantAuth {
					t.Errorf("loginRun() = %T, want AuthError %v", err, tt.wantAuth)
				}
				var he *cmdutil.HintError
				if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
					t.Errorf("loginRun() = %v, want a hint containing %q", err, tt.wantHint)
				}
			} else if err != nil {
				t.Fatalf("loginRun() = %v", err)
			}
			if reg.Exchanges != tt.exchanges {
				t.Errorf("exchanges = %d, want %d", reg.Exchanges, tt.exchanges)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout = %q, want it to contain %q", stdout, w)
				}
			}
			if tt.wantJSON {
				var got JSON
				if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Identity != "deploy" || got.Subject != "alice" || got.Registry != sessiontest.Host {
					t.Errorf("json = %s, %v", stdout, err)
				}
			}
			for _, out := range []string{stdout.String(), stderr.String()} {
				if strings.Contains(out, sessiontest.SessionToken) {
					t.Errorf("output leaks the session token: %q", out)
				}
			}
		})
	}
}

// TestLoginUnreachable checks that a registry nobody answers at is named
// in the error, with a hint about the address rather than about logging in.
func TestLoginUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ios, _, _, _ := iostreams.Test()
	cache, err := tokencache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := LoginOptions{
		IO: ios, IdentityToken: "x.y.z", RegistryFlag: addr,
		HTTPClient: func() (*http.Client, error) { return &http.Client{}, nil },
		Cache:      func() (*tokencache.Cache, error) { return cache, nil },
		Registry:   registryOr(""),
		Ambient:    sessiontest.Env{},
	}
	err = loginRun(t.Context(), &opts)
	var he *cmdutil.HintError
	var ae *cmdutil.AuthError
	if !errors.As(err, &he) || !strings.Contains(he.Hint, "cannot reach http://"+addr) || errors.As(err, &ae) {
		t.Errorf("loginRun() = %v, want a non-auth error hinting that %s cannot be reached", err, addr)
	}
}

// registryOr stands in for Factory.Registry: the flag, else def.
func registryOr(def string) func(string) (session.Registry, error) {
	return func(flag string) (session.Registry, error) {
		if flag == "" {
			flag = def
		}
		return session.ParseRegistry(flag)
	}
}

func TestLoginMethod(t *testing.T) {
	tests := []struct {
		name string
		opts LoginOptions
		tty  bool
		want session.MethodKind
	}{
		{name: "terminal", tty: true, want: session.Browser},
		{name: "no terminal", want: session.Ambient},
		{name: "browser without terminal", opts: LoginOptions{Browser: true}, want: session.Browser},
		{name: "headless", opts: LoginOptions{Headless: true}, tty: true, want: session.Device},
		{name: "token", opts: LoginOptions{IdentityToken: "a.b.c"}, tty: true, want: session.IDToken},
		{name: "dev", opts: LoginOptions{Dev: true}, want: session.DevUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.SetStdinTTY(tt.tty)
			ios.SetStdoutTTY(tt.tty)
			opts := tt.opts
			opts.IO = ios
			m, err := loginMethod(&opts)
			if err != nil || m.Kind != tt.want {
				t.Errorf("loginMethod() = %v, %v; want kind %v", m.Kind, err, tt.want)
			}
		})
	}
}

func TestReadToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(path, []byte(" a.b.c \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, stdin, want string
		wantErr               bool
	}{
		{name: "literal", in: "a.b.c", want: "a.b.c"},
		{name: "file", in: "@" + path, want: "a.b.c"},
		{name: "stdin", in: "-", stdin: "a.b.c\n", want: "a.b.c"},
		{name: "empty stdin", in: "-", wantErr: true},
		{name: "missing file", in: "@" + path + ".nope", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readToken(tt.in, strings.NewReader(tt.stdin))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("readToken(%q) = %q, %v, want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
