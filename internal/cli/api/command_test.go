package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
)

// parse sets r's flags from args, for tests of Remote without a command.
func parse(t *testing.T, r *api.Remote, args []string) {
	t.Helper()
	set := pflag.NewFlagSet("test", pflag.ContinueOnError)
	r.AddFlags(set)
	if err := set.Parse(args); err != nil {
		t.Fatalf("Parse(%q) = %v", args, err)
	}
}

// thingOptions is a resource command's XOptions as Command expects them.
type thingOptions struct {
	api.Remote
	Name string
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		withRunF     bool
		wantErr      string
		wantFlagErr  bool
		wantResolved bool // f.Registry was asked
		wantRan      string
	}{
		{name: "runF", args: []string{"a"}, withRunF: true, wantResolved: true, wantRan: "runF"},
		{name: "run", args: []string{"a"}, wantResolved: true, wantRan: "run"},
		{name: "registry flag", args: []string{"a", "--registry", "https://other.example"}, withRunF: true, wantResolved: true, wantRan: "runF"},
		{name: "check fails first", args: []string{"bad"}, withRunF: true, wantErr: "bad name", wantFlagErr: true},
		{name: "registry fails before running", args: []string{"a", "--registry", "http://r.example"}, withRunF: true, wantResolved: true, wantErr: "plain http", wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputJSON, nil)
			resolved := false
			registry := f.Registry
			f.Registry = func(flag string) (session.Registry, error) { resolved = true; return registry(flag) }
			var ran string
			var got *thingOptions
			record := func(name string) func(context.Context, *thingOptions) error {
				return func(_ context.Context, o *thingOptions) error { ran, got = name, o; return nil }
			}
			var runF func(context.Context, *thingOptions) error
			if tt.withRunF {
				runF = record("runF")
			}
			opts := &thingOptions{}
			cmd := api.Command(f, &cobra.Command{Use: "thing NAME", Args: cobra.ExactArgs(1)}, opts, func(args []string) error {
				if args[0] == "bad" {
					return cmdutil.FlagErrorf("bad name")
				}
				opts.Name = args[0]
				return nil
			}, runF, record("run"))
			for _, name := range []string{"registry", "token-file"} {
				if cmd.Flags().Lookup(name) == nil {
					t.Fatalf("Command() has no --%s", name)
				}
			}
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if resolved != tt.wantResolved {
				t.Errorf("Execute(%q) resolved the registry: %v, want %v", tt.args, resolved, tt.wantResolved)
			}
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &fe) != tt.wantFlagErr {
					t.Errorf("Execute(%q) = %v (%T), want %q, FlagError %v", tt.args, err, err, tt.wantErr, tt.wantFlagErr)
				}
				if ran != "" {
					t.Errorf("Execute(%q) ran %s after an error", tt.args, ran)
				}
				return
			}
			if err != nil || ran != tt.wantRan {
				t.Fatalf("Execute(%q) = %v, ran %q, want %q", tt.args, err, ran, tt.wantRan)
			}
			wantRegistry := apitest.URL
			if len(tt.args) > 1 {
				wantRegistry = tt.args[2]
			}
			if got != opts || got.Name != "a" || got.IO != ios || got.HTTPClient == nil && f.HTTPClient != nil ||
				got.Registry != wantRegistry || got.Output != cmdutil.OutputJSON {
				t.Errorf("options = %+v, want Name a, the Factory's IO, Registry %s, json", got, wantRegistry)
			}
			if tok, err := got.Token(t.Context()); err != nil || tok != apitest.Token {
				t.Errorf("Token() = %q, %v, want the Factory's session", tok, err)
			}
		})
	}
}
