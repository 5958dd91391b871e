package logout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestNewCmdLogout(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantReg   string
		wantAll   bool
		wantError bool
	}{
		{name: "default", args: nil},
		{name: "registry", args: []string{"--registry", "r.test"}, wantReg: "r.test"},
		{name: "all", args: []string{"--all"}, wantAll: true},
		{name: "both", args: []string{"--all", "--registry", "r.test"}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputTable}}
			var got *LogoutOptions
			cmd := NewCmdLogout(f, func(_ context.Context, o *LogoutOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantError {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantError)
			}
			if err == nil && (got.RegistryFlag != tt.wantReg || got.All != tt.wantAll) {
				t.Errorf("options = %+v", got)
			}
		})
	}
}

func Test_logoutRun(t *testing.T) {
	tests := []struct {
		name     string
		opts     LogoutOptions
		wantLeft []string
		wantOut  string
	}{
		{name: "default registry", wantLeft: []string{"b.test"}, wantOut: "Logged out of a.test"},
		{name: "flag", opts: LogoutOptions{RegistryFlag: "b.test"}, wantLeft: []string{"a.test"}, wantOut: "Logged out of b.test"},
		{name: "not logged in is fine", opts: LogoutOptions{RegistryFlag: "c.test"}, wantLeft: []string{"a.test", "b.test"}, wantOut: "c.test"},
		{name: "all", opts: LogoutOptions{All: true}, wantOut: "Logged out of b.test"},
		{name: "json", opts: LogoutOptions{All: true, Output: cmdutil.OutputJSON}, wantOut: `"logged_out": [`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			cache, err := tokencache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"a.test", "b.test"} {
				if err := cache.Put(h, tokencache.Entry{Kind: tokencache.KindSession, Token: "t", Expiry: time.Now().Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			opts := tt.opts
			opts.IO = ios
			opts.Cache = func() (*tokencache.Cache, error) { return cache, nil }
			opts.Registry = func(flag string) (session.Registry, error) {
				if flag == "" {
					flag = "a.test"
				}
				return session.ParseRegistry(flag)
			}
			if err := logoutRun(context.Background(), &opts); err != nil {
				t.Fatalf("logoutRun() = %v", err)
			}
			left, _ := cache.List()
			if strings.Join(left, ",") != strings.Join(tt.wantLeft, ",") {
				t.Errorf("left = %v, want %v", left, tt.wantLeft)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantOut)
			}
		})
	}
}
