// Package iam is the `chainctl iam` command group: who may use a registry.
package iam

import (
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities"
)

// NewCmdIAM returns `chainctl iam` and its subcommands.
func NewCmdIAM(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "iam <command>",
		Short: "Manage who may use a registry",
		Long: cmdutil.Heredoc(`
			Manage access to a chainctl registry. Nobody has a password: access comes
			from OIDC identities the registry trusts, each with roles on repository
			patterns. See "chainctl iam identities --help".
		`),
		Example: cmdutil.Examples(`
			$ chainctl iam identities list --registry https://registry.example.com
		`),
	}
	cmd.AddCommand(identities.NewCmdIdentities(f))
	return cmd
}
