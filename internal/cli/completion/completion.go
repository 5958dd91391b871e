// Package completion is the `chainctl completion` command.
package completion

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// Shells are the shells completion scripts exist for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// CompletionOptions are the inputs of `chainctl completion`.
type CompletionOptions struct {
	IO    *iostreams.IOStreams
	Shell string
	// Root is the command tree the script completes.
	Root *cobra.Command
}

// NewCmdCompletion returns `chainctl completion`. runF replaces
// completionRun in tests.
func NewCmdCompletion(f *cmdutil.Factory, runF func(*CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "completion <bash|zsh|fish|powershell>",
		Short: "Print a shell completion script",
		Long: cmdutil.Heredoc(`
			Print a script that makes your shell complete chainctl's commands, flags and
			flag values when you press Tab. Load it once in the current shell to try it,
			or install it so that every new shell has it.

			Bash (needs the bash-completion package):
			  Current shell:  source <(chainctl completion bash)
			  Every shell:    chainctl completion bash > ~/.local/share/bash-completion/completions/chainctl

			Zsh:
			  Every shell:    chainctl completion zsh > "${fpath[1]}/_chainctl"
			  (If completion is not enabled yet, add "autoload -U compinit; compinit" to ~/.zshrc.)

			Fish:
			  Every shell:    chainctl completion fish > ~/.config/fish/completions/chainctl.fish

			PowerShell:
			  Current shell:  chainctl completion powershell | Out-String | Invoke-Expression
			  Every shell:    add the line above to your $PROFILE

			Release archives and packages include these scripts in completions/.
		`),
		Example: cmdutil.Examples(`
			$ source <(chainctl completion bash)
			$ chainctl completion zsh > "${fpath[1]}/_chainctl"
			$ chainctl completion fish > ~/.config/fish/completions/chainctl.fish
		`),
		ValidArgs: Shells,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return cmdutil.FlagErrorf("name a shell: %s", strings.Join(Shells, ", "))
			case len(args) > 1:
				return cmdutil.FlagErrorf("name one shell, not %d", len(args))
			}
			for _, s := range Shells {
				if args[0] == s {
					return nil
				}
			}
			return cmdutil.FlagErrorf("unsupported shell %q: use one of %s", args[0], strings.Join(Shells, ", "))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell = args[0]
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return completionRun(opts)
		},
	}
	return cmd
}

func completionRun(opts *CompletionOptions) error {
	return Generate(opts.Root, opts.Shell, opts.IO.Out)
}

// Generate writes root's completion script for shell to w, with
// descriptions. It is also how `make generate` writes completions/.
func Generate(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return fmt.Errorf("unsupported shell %q", shell)
}
