// Package subscriptions is the `chainctl events subscriptions` command
// group.
package subscriptions

import (
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/create"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/delete"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/enable"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/list"
)

// NewCmdSubscriptions returns `chainctl events subscriptions` and its
// subcommands.
func NewCmdSubscriptions(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "subscriptions <command>",
		Aliases: []string{"subscription", "subs"},
		Short:   "Manage event subscriptions: URLs the registry POSTs pushes and pulls to",
		Long: cmdutil.Heredoc(`
			A subscription sends the events of some repositories (pushes, pulls, or both)
			to a URL, its sink: a CI system that deploys on push, an audit log, a scanner
			that looks at every new image, a chat channel.

			A subscription has a sink (https), event types, repository patterns (team/app,
			team/* for everything under team/, or * for everything) and a description.
			Owners of every pattern create, list and delete it. The registry keeps each
			event for each subscription until the sink takes it: delivery is at least
			once, retried with backoff for about a day, and "list" shows how each sink
			fares. See "chainctl events --help" for the event and its signature.

			The registry and the session are those of "chainctl auth login" unless
			--registry, $CHAINCTL_REGISTRY, --token-file or $CHAINCTL_TOKEN say
			otherwise; the session token is never printed.
		`),
		Example: cmdutil.Examples(`
			$ chainctl events subscriptions create https://hooks.example.com/registry --repository 'acme/*'
			$ chainctl events subscriptions list
			$ chainctl events subscriptions delete sub-4xq2m7k3b5vyd6hjw2ra
		`),
	}
	cmd.AddCommand(create.NewCmdCreate(f, nil))
	cmd.AddCommand(list.NewCmdList(f, nil))
	cmd.AddCommand(delete.NewCmdDelete(f, nil))
	cmd.AddCommand(enable.NewCmdEnable(f, nil))
	return cmd
}
