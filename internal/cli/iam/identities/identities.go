// Package identities is the `chainctl iam identities` command group.
package identities

import (
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/create"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/delete"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/describe"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/list"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/test"
)

// NewCmdIdentities returns `chainctl iam identities` and its subcommands.
func NewCmdIdentities(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "identities <command>",
		Aliases: []string{"identity"},
		Short:   "Manage the OIDC identities a registry trusts",
		Long: cmdutil.Heredoc(`
			An identity is a rule for trusting upstream OIDC tokens, the only way into a
			chainctl registry: tokens from its issuer, for its audience, whose subject and
			claims match, act with its roles (viewer, pusher, editor, owner) on the
			repositories its role bindings name.

			Owners manage identities within their repositories: every command here needs
			a session with the owner role on the repositories concerned. Identities of
			the registry's configuration file are listed but cannot be changed here.

			The registry is --registry, else $CHAINCTL_REGISTRY, else the one set with
			"chainctl config set registry". The session is the one "chainctl auth login"
			keeps (or one exchanged from ambient CI credentials), unless --token-file or
			$CHAINCTL_TOKEN gives a session token. It is sent only over https or to a
			loopback host, and never printed. A refused or missing session exits with
			status 4.
		`),
		Example: cmdutil.Examples(`
			$ export CHAINCTL_REGISTRY=https://registry.example.com
			$ chainctl iam identities create github --repository acme/app \
			    --repository-id 123456789 --owner-id 987654 --role pusher:acme/*
			$ chainctl iam identities list
			$ chainctl iam identities test < token.jwt
			$ chainctl iam identities delete github-acme-app
		`),
	}
	cmd.AddCommand(create.NewCmdCreate(f, nil))
	cmd.AddCommand(list.NewCmdList(f, nil))
	cmd.AddCommand(describe.NewCmdDescribe(f, nil))
	cmd.AddCommand(delete.NewCmdDelete(f, nil))
	cmd.AddCommand(test.NewCmdTest(f, nil))
	return cmd
}
