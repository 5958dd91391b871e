package configcmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdSet(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{name: "registry", args: []string{"registry", "registry.example.com"}},
		{name: "unset", args: []string{"registry", ""}},
		{name: "unknown key", args: []string{"regsitry", "x"}, wantErr: true},
		{name: "bad registry", args: []string{"registry", "http://registry.example.com"}, wantErr: true},
		{name: "one arg", args: []string{"registry"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputTable}}
			var got *ConfigOptions
			cmd := NewCmdSet(f, func(_ context.Context, o *ConfigOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if err == nil && (got.Key != tt.args[0] || got.Value != tt.args[1]) {
				t.Errorf("options = %+v", got)
			}
		})
	}
}

func TestNewCmdGet(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputTable}}
	var got *ConfigOptions
	cmd := NewCmdGet(f, func(_ context.Context, o *ConfigOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"registry"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err != nil || got.Key != "registry" {
		t.Fatalf("Execute() = %v, options %+v", err, got)
	}
	cmd = NewCmdGet(f, nil)
	cmd.SetArgs([]string{"nope"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	var fe *cmdutil.FlagError
	if err := cmd.Execute(); !errors.As(err, &fe) {
		t.Errorf("Execute(nope) = %v, want FlagError", err)
	}
}

func Test_setRun_getRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chainctl", "config.yaml")
	pathFn := func() (string, error) { return path, nil }
	ios, _, stdout, _ := iostreams.Test()
	if err := getRun(context.Background(), &ConfigOptions{IO: ios, Path: pathFn, Key: "registry"}); err != nil || stdout.String() != "\n" {
		t.Fatalf("getRun(no file) = %v, stdout %q, want nil, empty line", err, stdout)
	}
	stdout.Reset()
	if err := setRun(context.Background(), &ConfigOptions{IO: ios, Path: pathFn, Key: "registry", Value: "registry.example.com"}); err != nil {
		t.Fatalf("setRun() = %v", err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, %v, want 0600", fi.Mode().Perm(), err)
		}
	}
	if err := getRun(context.Background(), &ConfigOptions{IO: ios, Path: pathFn, Key: "registry", Output: cmdutil.OutputJSON}); err != nil {
		t.Fatalf("getRun() = %v", err)
	}
	if !strings.Contains(stdout.String(), `"registry": "registry.example.com"`) {
		t.Errorf("stdout = %q", stdout)
	}
}
