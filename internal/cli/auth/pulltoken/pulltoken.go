// Package pulltoken is the `chainctl auth pull-token` command group.
package pulltoken

import (
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/create"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/list"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/revoke"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

// NewCmdPullToken returns `chainctl auth pull-token` and its subcommands.
func NewCmdPullToken(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "pull-token <command>",
		Aliases: []string{"pull-tokens"},
		Short:   "Manage pull tokens: long-lived, pull-only passwords",
		Long: cmdutil.Heredoc(`
			A pull token is a username and password for pulling, for the places where no
			OIDC token is at hand and nobody can run "chainctl auth login": a Kubernetes
			cluster's imagePullSecrets, an air-gapped build farm, a vulnerability scanner,
			a machine that only pulls. Anything that speaks "docker login" can use one.

			A pull token:
			  - only pulls, and only from the repositories its patterns cover (team/app,
			    team/*, or *);
			  - is shown once: the registry keeps only a hash of the password, so a lost
			    password means a new token;
			  - expires after its TTL (720h by default; the registry caps it at
			    auth.pull_tokens.max_ttl, 8760h unless configured);
			  - can be revoked at any time, and stops working at once.

			Creating, listing and revoking pull tokens needs the owner role on every
			repository pattern concerned. The registry and the session are those of
			"chainctl auth login" unless --registry, $CHAINCTL_REGISTRY, --token-file or
			$CHAINCTL_TOKEN say otherwise; the session token is never printed.

			For a machine of your own, "chainctl auth configure-docker --pull-token"
			creates a token and makes docker pull with it in one step.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth pull-token create --repository 'acme/*' --name ci --ttl 30d
			$ chainctl auth pull-token list
			$ chainctl auth pull-token revoke pt-4xq2m7k3b5vyd6hjw2ra
		`),
	}
	cmd.AddCommand(create.NewCmdCreate(f, nil))
	cmd.AddCommand(list.NewCmdList(f, nil))
	cmd.AddCommand(revoke.NewCmdRevoke(f, nil))
	return cmd
}
