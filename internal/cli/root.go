// Package cli is chainctl's command line: the cobra command tree, the
// Factory that gives commands their dependencies, and the one place where
// errors become exit codes. It is the only part of chainctl that prints.
package cli

import (
	"github.com/spf13/cobra"

	authcmd "github.com/chainctl/chainctl/internal/cli/auth"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/completion"
	"github.com/chainctl/chainctl/internal/cli/configcmd"
	eventscmd "github.com/chainctl/chainctl/internal/cli/events"
	iamcmd "github.com/chainctl/chainctl/internal/cli/iam"
	registrycmd "github.com/chainctl/chainctl/internal/cli/registry"
	versioncmd "github.com/chainctl/chainctl/internal/cli/version"
)

// NewCmdRoot returns the chainctl command with all its subcommands.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chainctl <command> <subcommand> [flags]",
		Short: "A passwordless OCI container registry and its client",
		Long: cmdutil.Heredoc(`
			chainctl is a container registry without passwords, and the client to use it.

			The server, "chainctl registry serve", is an OCI Distribution v1.1 registry.
			By default it keeps blobs in a local directory and metadata in SQLite, so one
			command starts a working registry with no other services.

			Output is styled on a terminal and plain when piped; "--output json" gives
			scripts one JSON document. Exit codes: 0 success, 1 error, 2 cancelled,
			4 authentication needed.
		`),
		Example: cmdutil.Examples(`
			# Start a registry on 127.0.0.1:5000 with data in your user data directory
			$ chainctl registry serve

			# Show the version as JSON
			$ chainctl version -o json

			# Load bash completion into the current shell
			$ source <(chainctl completion bash)
		`),
		SilenceErrors: true, // Main prints errors, with hints, in one place
		SilenceUsage:  true,
		// The only persistent hook: no command defines its own.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return cmdutil.CheckOutput(cmd, f.Globals.Output)
		},
	}
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	// Our own completion command has help text; cobra's would be a duplicate.
	cmd.CompletionOptions.DisableDefaultCmd = true

	f.Globals.AddFlags(cmd.PersistentFlags())
	_ = cmd.RegisterFlagCompletionFunc("output",
		cobra.FixedCompletions(cmdutil.OutputFormats, cobra.ShellCompDirectiveNoFileComp))
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})

	cmd.AddCommand(versioncmd.NewCmdVersion(f, nil))
	cmd.AddCommand(completion.NewCmdCompletion(f, nil))
	cmd.AddCommand(registrycmd.NewCmdRegistry(f))
	cmd.AddCommand(iamcmd.NewCmdIAM(f))
	cmd.AddCommand(authcmd.NewCmdAuth(f))
	cmd.AddCommand(eventscmd.NewCmdEvents(f))
	cmd.AddCommand(configcmd.NewCmdConfig(f))
	cmdutil.Guard(cmd)
	return cmd
}
