package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

// TestTypos: a word that names no command is an error at every depth (exit
// 1, "unknown command"), never help and exit 0, and the commands meant
// are suggested.
func TestTypos(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		parent  string   // the command path the error names
		suggest []string // full command paths suggested
	}{
		{name: "top level", args: []string{"regsitry"}, parent: "chainctl", suggest: []string{"chainctl registry"}},
		{name: "login at the top", args: []string{"login"}, parent: "chainctl", suggest: []string{"chainctl auth login"}},
		{name: "logout at the top", args: []string{"logout"}, parent: "chainctl", suggest: []string{"chainctl auth logout"}},
		{name: "status at the top", args: []string{"status"}, parent: "chainctl", suggest: []string{"chainctl auth status"}},
		{name: "token at the top", args: []string{"token"}, parent: "chainctl", suggest: []string{"chainctl auth token"}},
		{name: "serve at the top", args: []string{"serve"}, parent: "chainctl", suggest: []string{"chainctl registry serve"}},
		{name: "gc at the top", args: []string{"gc", "--dry-run"}, parent: "chainctl", suggest: []string{"chainctl registry gc"}},
		{name: "configure-docker at the top", args: []string{"configure-docker"}, parent: "chainctl", suggest: []string{"chainctl auth configure-docker"}},
		{name: "identities at the top", args: []string{"identities", "list"}, parent: "chainctl", suggest: []string{"chainctl iam identities"}},
		{name: "depth 2", args: []string{"registry", "srve"}, parent: "chainctl registry", suggest: []string{"chainctl registry serve"}},
		{name: "depth 2 auth", args: []string{"auth", "statsu"}, parent: "chainctl auth", suggest: []string{"chainctl auth status"}},
		{name: "depth 2 with a flag of the command meant", args: []string{"auth", "configure-dokcer", "--registry", "x"}, parent: "chainctl auth", suggest: []string{"chainctl auth configure-docker"}},
		{name: "depth 2 after a global flag", args: []string{"-o", "table", "auth", "lgout"}, parent: "chainctl auth", suggest: []string{"chainctl auth logout"}},
		{name: "depth 3 through an alias", args: []string{"iam", "identity", "lst"}, parent: "chainctl iam identities", suggest: []string{"chainctl iam identities list"}},
		{name: "depth 3 keys", args: []string{"registry", "keys", "rotat"}, parent: "chainctl registry keys", suggest: []string{"chainctl registry keys rotate"}},
		{name: "depth 3 pull tokens", args: []string{"auth", "pull-token", "revok", "pt-x"}, parent: "chainctl auth pull-token", suggest: []string{"chainctl auth pull-token revoke"}},
		{name: "depth 3 subscriptions", args: []string{"events", "subscriptions", "craete"}, parent: "chainctl events subscriptions", suggest: []string{"chainctl events subscriptions create"}},
		{name: "depth 2 config", args: []string{"config", "gte", "registry"}, parent: "chainctl config", suggest: []string{"chainctl config get"}},
		{name: "nothing near", args: []string{"iam", "xyzzy"}, parent: "chainctl iam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := testFactory(false)
			got := Run(t.Context(), f, tt.args)
			if got != ExitError {
				t.Errorf("Run(%q) = %d, want %d", tt.args, got, ExitError)
			}
			if out.Len() != 0 {
				t.Errorf("Run(%q) stdout = %q, want nothing (no help)", tt.args, out)
			}
			stderr := errOut.String()
			if want := `error: unknown command "`; !strings.HasPrefix(stderr, want) {
				t.Errorf("Run(%q) stderr = %q, want it to start with %q", tt.args, stderr, want)
			}
			if want := " for \"" + tt.parent + "\"\n"; !strings.Contains(stderr, want) {
				t.Errorf("Run(%q) stderr lacks %q:\n%s", tt.args, want, stderr)
			}
			for _, s := range tt.suggest {
				if !strings.Contains(stderr, "\t"+s+"\n") {
					t.Errorf("Run(%q) does not suggest %q:\n%s", tt.args, s, stderr)
				}
			}
			if len(tt.suggest) == 0 && strings.Contains(stderr, "Did you mean") {
				t.Errorf("Run(%q) suggests something:\n%s", tt.args, stderr)
			}
			if want := "hint: run " + tt.parent + " --help to see the commands\n"; !strings.HasSuffix(stderr, want) {
				t.Errorf("Run(%q) stderr does not end with %q:\n%s", tt.args, want, stderr)
			}
		})
	}
}

// TestEveryGroupRefusesUnknownWords walks the tree: every command with
// subcommands refuses a word that names none of them, and prints its help
// when run alone.
func TestEveryGroupRefusesUnknownWords(t *testing.T) {
	f, _, _ := testFactory(false)
	var groups [][]string
	alone := map[string]bool{} // prints its help when run alone
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.HasSubCommands() {
			groups = append(groups, path)
			alone[strings.Join(path, " ")] = cmdutil.IsGroup(c)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(NewCmdRoot(f), nil)
	if len(groups) < 8 {
		t.Fatalf("found %d command groups, want the whole tree", len(groups))
	}
	for _, path := range groups {
		t.Run(strings.Join(append([]string{"chainctl"}, path...), " "), func(t *testing.T) {
			f, out, errOut := testFactory(false)
			args := append(append([]string(nil), path...), "no-such-thing")
			if got := Run(t.Context(), f, args); got != ExitError {
				t.Errorf("Run(%q) = %d, want %d", args, got, ExitError)
			}
			if !strings.Contains(errOut.String(), `unknown command "no-such-thing"`) || out.Len() != 0 {
				t.Errorf("Run(%q): stdout %q, stderr %q", args, out, errOut)
			}
			if !alone[strings.Join(path, " ")] {
				return // runnable with subcommands: "iam identities create"
			}
			f, out, errOut = testFactory(false)
			if got := Run(t.Context(), f, path); got != ExitOK || !strings.Contains(out.String(), "Available Commands:") || errOut.Len() != 0 {
				t.Errorf("Run(%q) = %d, stdout %q, stderr %q; want help and exit 0", path, got, out, errOut)
			}
		})
	}
}

// TestErrorsAsJSON: with -o json, an error is one JSON object on stderr,
// and the exit code does not change.
func TestErrorsAsJSON(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want errorReport
		code ExitCode
	}{
		{name: "unknown command", args: []string{"-o", "json", "auth", "statsu"}, code: ExitError,
			want: errorReport{Error: `unknown command "statsu" for "chainctl auth"`, Hint: "run chainctl auth --help to see the commands", Suggestions: []string{"chainctl auth status"}}},
		{name: "flag error before -o is parsed", args: []string{"version", "--nope", "--output", "json"}, code: ExitError,
			want: errorReport{Error: "unknown flag: --nope", Hint: "run chainctl version --help for usage"}},
		{name: "argument count", args: []string{"iam", "identities", "describe", "-o=json"}, code: ExitError,
			want: errorReport{Error: "accepts 1 arg(s), received 0", Hint: "run chainctl iam identities describe --help for usage"}},
		{name: "auth", args: []string{"iam", "identities", "list", "-ojson", "--registry", "https://r.example.com", "--token-file", "/nonexistent/token"}, code: ExitAuth,
			want: errorReport{Error: "read session token: open /nonexistent/token: no such file or directory", Hint: "set --token-file or $CHAINCTL_TOKEN, or run `chainctl auth login --registry r.example.com`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := testFactory(false)
			if got := Run(t.Context(), f, tt.args); got != tt.code {
				t.Errorf("Run(%q) = %d, want %d", tt.args, got, tt.code)
			}
			if out.Len() != 0 {
				t.Errorf("Run(%q) stdout = %q, want nothing", tt.args, out)
			}
			var got errorReport
			dec := json.NewDecoder(errOut)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stderr of Run(%q) is not one JSON object: %v\n%s", tt.args, err, errOut)
			}
			if dec.More() {
				t.Errorf("stderr of Run(%q) holds more than one JSON value", tt.args)
			}
			if got.Error != tt.want.Error || got.Hint != tt.want.Hint || strings.Join(got.Suggestions, "|") != strings.Join(tt.want.Suggestions, "|") {
				t.Errorf("Run(%q) error = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}
