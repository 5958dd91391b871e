// Package enable is the `chainctl events subscriptions enable` command.
package enable

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/delete"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
)

// EnableOptions are the inputs of `chainctl events subscriptions enable`.
type EnableOptions struct {
	api.Remote

	ID string
}

// NewCmdEnable returns `chainctl events subscriptions enable`. runF
// replaces enableRun in tests.
func NewCmdEnable(f *cmdutil.Factory, runF func(context.Context, *EnableOptions) error) *cobra.Command {
	opts := &EnableOptions{}
	cmd := &cobra.Command{
		Use:   "enable ID",
		Short: "Deliver to a disabled subscription again",
		Long: cmdutil.Heredoc(`
			Enable subscription ID again after the registry disabled it (its sink answered
			410 Gone): new events are delivered to it from now on. Enabling one that is
			not disabled changes nothing.

			The events recorded while it was disabled are not queued for it; "chainctl
			events redeliver ID --since TIME" sends them. "-o json" prints the
			subscription as the registry returns it.
		`),
		Example: cmdutil.Examples(`
			$ chainctl events subscriptions enable sub-4xq2m7k3b5vyd6hjw2ra
			$ chainctl events redeliver sub-4xq2m7k3b5vyd6hjw2ra --since 24h
		`),
		Args: cobra.ExactArgs(1),
	}
	return api.Command(f, cmd, opts, delete.CheckID(&opts.ID), runF, enableRun)
}

func enableRun(ctx context.Context, opts *EnableOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	sub, err := shared.EnableSubscription(ctx, client, opts.ID)
	if err != nil {
		return shared.MapError(err, opts.ID)
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, sub.Raw)
	}
	_, err = fmt.Fprintf(opts.IO.ErrOut, "%s Subscription %s is enabled: events go to %s\n", opts.IO.ErrStyles().Success("✓"), sub.ID, sub.Sink)
	return err
}
