// Package redeliver is the `chainctl events redeliver` command.
package redeliver

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/delete"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/events"
)

// RedeliverOptions are the inputs of `chainctl events redeliver`.
type RedeliverOptions struct {
	api.Remote

	Subscription string
	Request      events.RedeliverRequest
}

// NewCmdRedeliver returns `chainctl events redeliver`. runF replaces
// redeliverRun in tests.
func NewCmdRedeliver(f *cmdutil.Factory, runF func(context.Context, *RedeliverOptions) error) *cobra.Command {
	opts := &RedeliverOptions{}
	cmd := &cobra.Command{
		Use:   "redeliver SUBSCRIPTION (--event ID | --since TIME [--failed])",
		Short: "Deliver events to a subscription again, with their original ids",
		Long: cmdutil.Heredoc(`
			Queue events for delivery to subscription SUBSCRIPTION again, so that a
			receiver that was down, or that lost what it got, catches up:

			  --event ID              one event, by its id (ce-id)
			  --since TIME            every event since TIME that the subscription takes
			                          (its types and repositories), delivered or not,
			                          including those recorded while it was disabled
			  --since TIME --failed   only the events whose delivery failed

			TIME is a duration back from now (90m, 24h, 7d), a date (2026-05-04) or an
			RFC 3339 time. Each event keeps its id, so a receiver that deduplicates on
			ce-id ignores what it already has. A redelivered event is retried for
			events.retry_for from now, as a new one is. Only events still in the log
			(events.retention, 7 days by default) can be redelivered.

			A disabled subscription is not delivered to until "chainctl events
			subscriptions enable" enables it; redeliver says so. "-o json" prints
			{"queued", "disabled"}.
		`),
		Example: cmdutil.Examples(`
			# The receiver was down since yesterday morning: send it everything again
			$ chainctl events redeliver sub-4xq2m7k3b5vyd6hjw2ra --since 30h
			# Only what it never took
			$ chainctl events redeliver sub-4xq2m7k3b5vyd6hjw2ra --since 7d --failed
			# One event
			$ chainctl events redeliver sub-4xq2m7k3b5vyd6hjw2ra --event 0193a1c2d3e4f5a6b7c8d9e0f1a2b3c4
		`),
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&opts.Request.Event, "event", "", "Redeliver the event with this `ID`")
	cmd.Flags().StringVar(&opts.Request.Since, "since", "", "Redeliver the events since `TIME` (90m, 24h, 7d, 2026-05-04, RFC 3339)")
	cmd.Flags().BoolVar(&opts.Request.FailedOnly, "failed", false, "With --since, only the events whose delivery failed")
	cmd.MarkFlagsMutuallyExclusive("event", "since")
	cmd.MarkFlagsMutuallyExclusive("event", "failed")
	cmd.MarkFlagsOneRequired("event", "since")
	return api.Command(f, cmd, opts, delete.CheckID(&opts.Subscription), runF, redeliverRun)
}

func redeliverRun(ctx context.Context, opts *RedeliverOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	res, err := shared.Redeliver(ctx, client, opts.Subscription, opts.Request)
	if err != nil {
		return shared.MapError(err, opts.Subscription)
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, res)
	}
	st := opts.IO.ErrStyles()
	noun := "events"
	if res.Queued == 1 {
		noun = "event"
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s Queued %d %s for delivery to %s\n", st.Success("✓"), res.Queued, noun, opts.Subscription)
	if res.Disabled {
		fmt.Fprintf(opts.IO.ErrOut, "%s The subscription is disabled: nothing is delivered until `chainctl events subscriptions enable %s`\n",
			st.Warning("!"), opts.Subscription)
	}
	return nil
}
