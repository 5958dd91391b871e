package credentialhelper

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestNewCmdCredentialHelper(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantAction string
		wantErr    bool
	}{
		{name: "get", args: []string{"get"}, wantAction: "get"},
		{name: "store", args: []string{"store"}, wantAction: "store"},
		{name: "erase", args: []string{"erase"}, wantAction: "erase"},
		{name: "list", args: []string{"list"}, wantAction: "list"},
		{name: "no action", wantErr: true},
		{name: "unknown action", args: []string{"frobnicate"}, wantErr: true},
		{name: "two actions", args: []string{"get", "list"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{}}
			var got *CredentialHelperOptions
			cmd := NewCmdCredentialHelper(f, func(_ context.Context, o *CredentialHelperOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got.Action != tt.wantAction {
				t.Errorf("Action = %q, want %q", got.Action, tt.wantAction)
			}
		})
	}
}

func Test_credentialHelperRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	open := func() (*tokencache.Cache, error) { return tokencache.Open(dir) }
	run := func(action, stdin string) (string, string, error) {
		ios, in, out, errOut := iostreams.Test()
		in.WriteString(stdin)
		err := credentialHelperRun(t.Context(), &CredentialHelperOptions{IO: ios, OpenCache: open, Action: action})
		return out.String(), errOut.String(), err
	}
	steps := []struct {
		action, stdin, wantOut string
		wantErr                bool
	}{
		{action: "get", stdin: "127.0.0.1:5000", wantOut: "credentials not found in native keychain\n", wantErr: true},
		{action: "store", stdin: `{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"pt-hunter2"}`},
		{action: "get", stdin: "127.0.0.1:5000", wantOut: `{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"pt-hunter2"}` + "\n"},
		{action: "list", wantOut: `{"127.0.0.1:5000":"u"}` + "\n"},
		{action: "erase", stdin: "127.0.0.1:5000"},
		{action: "get", stdin: "127.0.0.1:5000", wantOut: "credentials not found in native keychain\n", wantErr: true},
	}
	for _, s := range steps {
		out, errOut, err := run(s.action, s.stdin)
		if (err != nil) != s.wantErr {
			t.Errorf("%s %q: err = %v, want error %v", s.action, s.stdin, err, s.wantErr)
		}
		if err != nil && err != cmdutil.ErrSilent {
			t.Errorf("%s %q: err = %v, want ErrSilent (the answer is already on stdout)", s.action, s.stdin, err)
		}
		if out != s.wantOut {
			t.Errorf("%s %q: stdout = %q, want %q", s.action, s.stdin, out, s.wantOut)
		}
		if strings.Contains(errOut, "hunter2") || errOut != "" {
			t.Errorf("%s %q: stderr = %q, want nothing", s.action, s.stdin, errOut)
		}
	}
}
