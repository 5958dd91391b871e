// Package delete is the `chainctl events subscriptions delete` command.
package delete

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
)

// DeleteOptions are the inputs of `chainctl events subscriptions delete`.
type DeleteOptions struct {
	api.Remote

	// IDs are the subscriptions to delete, checked and without duplicates.
	IDs []string
}

// NewCmdDelete returns `chainctl events subscriptions delete`. runF
// replaces deleteRun in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete ID...",
		Aliases: []string{"rm"},
		Short:   "Delete event subscriptions: their sinks get no more events",
		Long: cmdutil.Heredoc(`
			Delete each subscription ID (sub-..., as "chainctl events subscriptions list"
			shows): the registry stops delivering to its sink, and events still pending
			for it are dropped. A delivery already on its way may still arrive.

			Every ID is tried, even when one fails; the command then exits non-zero, with
			status 4 when the registry refused the session for all of them. Deleting needs
			the owner role on every repository pattern of the subscription. The registry
			and the session are those of "chainctl auth login" unless --registry,
			$CHAINCTL_REGISTRY, --token-file or $CHAINCTL_TOKEN say otherwise.

			"-o json" prints [{"id", "deleted", "error"}] for the IDs, in order.
		`),
		Example: cmdutil.Examples(`
			$ chainctl events subscriptions delete sub-4xq2m7k3b5vyd6hjw2ra
			# Delete every disabled subscription
			$ chainctl events subscriptions list -o json | jq -r '.[] | select(.disabled) | .id' \
			    | xargs chainctl events subscriptions delete
		`),
		Args: cobra.MinimumNArgs(1),
	}
	return api.Command(f, cmd, opts, func(args []string) error {
		ids, err := ParseIDs(args)
		if err != nil {
			return err
		}
		opts.IDs = ids
		return nil
	}, runF, deleteRun)
}

// ParseIDs checks that every argument has the form of a subscription id
// and drops repeats, before anything is deleted (cmdutil.ParseIDs).
func ParseIDs(args []string) ([]string, error) {
	return cmdutil.ParseIDs(args, shared.ValidID, "subscription id",
		"an id is sub- and 20 characters a-z and 2-7, as `chainctl events subscriptions list` shows")
}

// CheckID returns the check of a command that takes one subscription id
// (deliveries, redeliver, enable): it sets *dst to it, once ParseIDs has
// found it well-formed.
func CheckID(dst *string) func(args []string) error {
	return func(args []string) error {
		ids, err := ParseIDs(args)
		if err != nil {
			return err
		}
		*dst = ids[0]
		return nil
	}
}

// JSONField says, in each -o json result, whether its subscription was
// deleted.
const JSONField = "deleted"

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	each := cmdutil.EachID{IO: opts.IO, JSON: opts.Output == cmdutil.OutputJSON,
		Field: JSONField, Done: "Deleted subscription", Failed: "subscriptions not deleted"}
	_, err = each.Run(opts.IDs, func(id string) error {
		if err := shared.DeleteSubscription(ctx, client, id); err != nil {
			return shared.MapError(err, id)
		}
		return nil
	})
	return err
}
