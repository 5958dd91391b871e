package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func testFactory(tty bool) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(tty)
	f := NewFactory(ios)
	f.LookupEnv = func(string) (string, bool) { return "", false }
	return f, out, errOut
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       ExitCode
		wantStdout []string
		wantStderr []string
		noStderr   bool
	}{
		{name: "version", args: []string{"version"}, want: ExitOK, wantStdout: []string{"version  ", "go       go1."}, noStderr: true},
		{name: "version json", args: []string{"version", "-o", "json"}, want: ExitOK, wantStdout: []string{`"version": "`, `"commit": `, `"go_version": "go1.`}, noStderr: true},
		{name: "global flag before the command", args: []string{"--output=json", "version"}, want: ExitOK, wantStdout: []string{`"go_version"`}},
		{name: "bad output format", args: []string{"version", "-o", "yaml"}, want: ExitError, wantStderr: []string{`error: invalid argument "yaml"`, "must be one of table, json", "hint: run chainctl version --help for usage"}},
		{name: "unknown command", args: []string{"verison"}, want: ExitError, wantStderr: []string{`unknown command "verison"`, "\tchainctl version\n", "hint: run chainctl --help"}},
		{name: "unknown flag", args: []string{"version", "--nope"}, want: ExitError, wantStderr: []string{"error: unknown flag: --nope\nhint: run chainctl version --help for usage\n"}},
		{name: "argument count", args: []string{"iam", "identities", "describe"}, want: ExitError, wantStderr: []string{"error: accepts 1 arg(s), received 0\nhint: run chainctl iam identities describe --help for usage\n"}},
		{name: "extra argument", args: []string{"version", "extra"}, want: ExitError, wantStderr: []string{`error: unknown command "extra" for "chainctl version"` + "\nhint: run chainctl version --help for usage\n"}},
		{name: "group alone shows help", args: []string{"registry"}, want: ExitOK, wantStdout: []string{"Available Commands:", "serve"}, noStderr: true},
		{name: "help", args: []string{"--help"}, want: ExitOK, wantStdout: []string{"without passwords", "registry", "completion", "--output"}},
		{name: "no command shows help", args: nil, want: ExitOK, wantStdout: []string{"Available Commands:"}},
		{name: "completion bash", args: []string{"completion", "bash"}, want: ExitOK, wantStdout: []string{"# bash completion V2 for chainctl"}},
		{name: "completion zsh", args: []string{"completion", "zsh"}, want: ExitOK, wantStdout: []string{"#compdef chainctl"}},
		{name: "completion fish", args: []string{"completion", "fish"}, want: ExitOK, wantStdout: []string{"complete -c chainctl"}},
		{name: "completion powershell", args: []string{"completion", "powershell"}, want: ExitOK, wantStdout: []string{"Register-ArgumentCompleter"}},
		{name: "completion without shell", args: []string{"completion"}, want: ExitError, wantStderr: []string{"name a shell: bash, zsh, fish, powershell"}},
		{name: "completion unknown shell", args: []string{"completion", "tcsh"}, want: ExitError, wantStderr: []string{`unsupported shell "tcsh"`}},
		{name: "output values complete", args: []string{"__complete", "version", "--output", ""}, want: ExitOK, wantStdout: []string{"table\njson\n"}},
		{name: "identities with an unreadable token file exits 4", args: []string{"iam", "identities", "list", "--registry", "https://r.example.com", "--token-file", "/nonexistent/token"}, want: ExitAuth, wantStderr: []string{"error: read session token", "hint: set --token-file or $CHAINCTL_TOKEN, or run `chainctl auth login --registry r.example.com`"}},
		{name: "identities delete piped needs --yes", args: []string{"iam", "identities", "delete", "ci"}, want: ExitError, wantStderr: []string{"--yes is required", "hint: run chainctl iam identities delete --help for usage"}},
		{name: "serve rejects bad config", args: []string{"registry", "serve", "--database", "mysql://x"}, want: ExitError, wantStderr: []string{"error: invalid configuration", "mysql:// databases are not supported", "hint: see `chainctl registry serve --help`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := testFactory(false)
			got := Run(t.Context(), f, tt.args)
			if got != tt.want {
				t.Errorf("Run(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, errOut)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("Run(%q) stdout lacks %q:\n%s", tt.args, w, out)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("Run(%q) stderr lacks %q:\n%s", tt.args, w, errOut)
				}
			}
			if tt.noStderr && errOut.Len() != 0 {
				t.Errorf("Run(%q) stderr = %q, want nothing", tt.args, errOut)
			}
			if strings.Contains(out.String()+errOut.String(), "\x1b[") {
				t.Errorf("Run(%q) styled output that is not a terminal", tt.args)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want ExitCode
	}{
		{name: "nil", err: nil, want: ExitOK},
		{name: "plain", err: errors.New("boom"), want: ExitError},
		{name: "flag", err: cmdutil.FlagErrorf("bad flag"), want: ExitError},
		{name: "silent", err: cmdutil.ErrSilent, want: ExitError},
		{name: "cancel", err: cmdutil.ErrCancel, want: ExitCancel},
		{name: "context cancelled", err: fmt.Errorf("push: %w", context.Canceled), want: ExitCancel},
		{name: "auth", err: &cmdutil.AuthError{Err: errors.New("token expired")}, want: ExitAuth},
		{name: "auth with hint", err: &cmdutil.HintError{Err: &cmdutil.AuthError{Err: errors.New("no login")}, Hint: "log in"}, want: ExitAuth},
		{name: "hint", err: &cmdutil.HintError{Err: errors.New("boom"), Hint: "try again"}, want: ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestPrintError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		tty      bool
		want     string
		wantANSI bool
	}{
		{name: "plain", err: errors.New("boom"), want: "error: boom\n"},
		{name: "hint", err: &cmdutil.HintError{Err: errors.New("boom"), Hint: "try again"}, want: "error: boom\nhint: try again\n"},
		{name: "auth", err: &cmdutil.AuthError{Err: errors.New("token expired")}, want: "error: token expired\nhint: log in with `chainctl auth login`\n"},
		{name: "silent", err: fmt.Errorf("wrapped: %w", cmdutil.ErrSilent), want: ""},
		{name: "cancel piped", err: cmdutil.ErrCancel, want: ""},
		{name: "cancel on a terminal", err: cmdutil.ErrCancel, tty: true, want: "\n"},
		{name: "styled on a terminal", err: errors.New("boom"), tty: true, wantANSI: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test()
			ios.SetStderrTTY(tt.tty)
			printError(ios, nil, tt.err, false)
			if !tt.wantANSI && errOut.String() != tt.want {
				t.Errorf("printError(%v) = %q, want %q", tt.err, errOut, tt.want)
			}
			if got := strings.Contains(errOut.String(), "\x1b["); got != tt.wantANSI {
				t.Errorf("printError(%v) styled = %v, want %v: %q", tt.err, got, tt.wantANSI, errOut)
			}
		})
	}
}

// TestCommandsHaveHelp: every command explains itself.
func TestCommandsHaveHelp(t *testing.T) {
	f, _, _ := testFactory(false)
	stack := []*cobra.Command{NewCmdRoot(f)}
	for len(stack) > 0 {
		c := stack[0]
		stack = append(stack[1:], c.Commands()...)
		t.Run(c.CommandPath(), func(t *testing.T) {
			if c.Short == "" || c.Long == "" || c.Example == "" {
				t.Errorf("%s: Short, Long and Example must all be set", c.CommandPath())
			}
		})
	}
}
