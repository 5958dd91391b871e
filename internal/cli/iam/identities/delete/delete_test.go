package delete

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdDelete(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		tty         bool
		wantYes     bool
		wantFlagErr bool
	}{
		{name: "tty asks", args: []string{"ci"}, tty: true},
		{name: "tty --yes", args: []string{"ci", "--yes"}, tty: true, wantYes: true},
		{name: "piped needs --yes", args: []string{"ci"}, wantFlagErr: true},
		{name: "piped -y", args: []string{"ci", "-y"}, wantYes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.SetStdinTTY(tt.tty)
			ios.SetStdoutTTY(tt.tty)
			f := apitest.Factory(ios, cmdutil.OutputTable, nil)
			var got *DeleteOptions
			cmd := NewCmdDelete(f, func(_ context.Context, o *DeleteOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			var fe *cmdutil.FlagError
			if tt.wantFlagErr {
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), "--yes") {
					t.Fatalf("Execute(%q) = %v, want a FlagError naming --yes", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if got.ID != "ci" || got.Yes != tt.wantYes {
				t.Errorf("ID, Yes = %q, %v, want ci, %v", got.ID, got.Yes, tt.wantYes)
			}
		})
	}
}

func Test_deleteRun(t *testing.T) {
	del := apitest.Stub{Method: "DELETE", Path: "/api/v1/identities/ci", Status: 204}
	tests := []struct {
		name       string
		yes        bool
		tty        bool
		stdin      string
		stubs      []apitest.Stub
		output     cmdutil.OutputFormat
		want       string
		wantErr    error
		wantErrMsg string
	}{
		{name: "yes piped is quiet", yes: true, stubs: []apitest.Stub{del}, want: ""},
		{name: "confirmed on a terminal", tty: true, stdin: "y\n", stubs: []apitest.Stub{del}, want: "Deleted identity \x1b[1mci"},
		{name: "declined", tty: true, stdin: "n\n", wantErr: cmdutil.ErrCancel},
		{name: "no answer", tty: true, stdin: "", wantErr: cmdutil.ErrCancel},
		{name: "json", yes: true, output: cmdutil.OutputJSON, stubs: []apitest.Stub{del}, want: `"deleted": true`},
		{name: "not found", yes: true, stubs: []apitest.Stub{{Method: "DELETE", Path: "/api/v1/identities/ci", Status: 404, Body: `{"error":"not_found","message":"x"}`}}, wantErrMsg: `no identity "ci"`},
		{name: "config identity", yes: true, stubs: []apitest.Stub{{Method: "DELETE", Path: "/api/v1/identities/ci", Status: 409, Body: `{"error":"conflict","message":"identity \"ci\" comes from the configuration file"}`}}, wantErrMsg: "comes from the configuration file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, tt.stubs...)
			ios, in, out, _ := iostreams.Test()
			in.WriteString(tt.stdin)
			ios.SetStdinTTY(tt.tty)
			ios.SetStdoutTTY(tt.tty)
			err := deleteRun(t.Context(), &DeleteOptions{Remote: reg.Remote(ios, tt.output), ID: "ci", Yes: tt.yes})
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("deleteRun() = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.wantErrMsg != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErrMsg) {
					t.Fatalf("deleteRun() = %v, want %q", err, tt.wantErrMsg)
				}
				return
			case err != nil:
				t.Fatalf("deleteRun() = %v", err)
			}
			if tt.want == "" && out.Len() != 0 || !strings.Contains(out.String(), tt.want) {
				t.Errorf("output = %q, want %q", out, tt.want)
			}
		})
	}
}
