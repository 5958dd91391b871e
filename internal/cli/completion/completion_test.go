package completion

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdCompletion(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantShell string
		wantErr   string
	}{
		{name: "bash", args: []string{"bash"}, wantShell: "bash"},
		{name: "powershell", args: []string{"powershell"}, wantShell: "powershell"},
		{name: "missing", wantErr: "name a shell"},
		{name: "two", args: []string{"bash", "zsh"}, wantErr: "name one shell"},
		{name: "unknown", args: []string{"csh"}, wantErr: `unsupported shell "csh"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{}}
			var got *CompletionOptions
			cmd := NewCmdCompletion(f, func(o *CompletionOptions) error { got = o; return nil })
			root := &cobra.Command{Use: "chainctl"}
			root.AddCommand(cmd)
			root.SetArgs(append([]string{"completion"}, tt.args...))
			root.SetOut(ios.Out)
			root.SetErr(ios.ErrOut)
			root.SilenceErrors, root.SilenceUsage = true, true
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want %q", tt.args, err, tt.wantErr)
				}
				if _, ok := err.(*cmdutil.FlagError); !ok {
					t.Errorf("Execute(%q) = %T, want *cmdutil.FlagError (usage is shown)", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if got.Shell != tt.wantShell || got.Root != root {
				t.Errorf("options = {Shell: %q, Root: %v}, want {%q, root}", got.Shell, got.Root, tt.wantShell)
			}
		})
	}
}

func Test_completionRun(t *testing.T) {
	tests := []struct {
		shell string
		want  string
	}{
		{"bash", "__start_chainctl"},
		{"zsh", "#compdef chainctl"},
		{"fish", "complete -c chainctl"},
		{"powershell", "Register-ArgumentCompleter"},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			root := &cobra.Command{Use: "chainctl"}
			root.AddCommand(&cobra.Command{Use: "version", Run: func(*cobra.Command, []string) {}})
			if err := completionRun(&CompletionOptions{IO: ios, Shell: tt.shell, Root: root}); err != nil {
				t.Fatalf("completionRun(%s) = %v", tt.shell, err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("completionRun(%s) output lacks %q", tt.shell, tt.want)
			}
		})
	}
}
