// Package deliveries is the `chainctl events deliveries` command.
package deliveries

import (
	"cmp"
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/delete"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/events"
)

// DeliveriesOptions are the inputs of `chainctl events deliveries`.
type DeliveriesOptions struct {
	api.Remote

	Subscription string
	Failed       bool
	Limit        int
}

// maxPage is the most deliveries the registry returns in one page.
const maxPage = 1000

// NewCmdDeliveries returns `chainctl events deliveries`. runF replaces
// deliveriesRun in tests.
func NewCmdDeliveries(f *cmdutil.Factory, runF func(context.Context, *DeliveriesOptions) error) *cobra.Command {
	opts := &DeliveriesOptions{}
	cmd := &cobra.Command{
		Use:   "deliveries SUBSCRIPTION",
		Short: "Show a subscription's deliveries: each event's attempts, status, last error and next retry",
		Long: cmdutil.Heredoc(`
			Show the deliveries of events to subscription SUBSCRIPTION (sub-..., as "chainctl
			events subscriptions list" shows), newest event first:

			  EVENT       the event's id, the ce-id of every attempt to deliver it
			  TYPE        push or pull
			  SUBJECT     repository:tag or repository@digest
			  STATE       pending (waiting for its next attempt), delivered, or failed
			              (given up after events.retry_for, or the sink answered 410)
			  ATTEMPTS    attempts made so far
			  LAST        the sink's last answer, or why there was none
			  NEXT RETRY  when a pending delivery is tried next

			--failed shows only the failed deliveries: what "chainctl events redeliver
			SUBSCRIPTION --since ... --failed" would queue again. Deliveries are kept as
			long as their events (events.retention, 7 days by default).

			"-o json" prints the array of deliveries as the registry returns them.
		`),
		Example: cmdutil.Examples(`
			$ chainctl events deliveries sub-4xq2m7k3b5vyd6hjw2ra
			# The events a sink never took, as JSON
			$ chainctl events deliveries sub-4xq2m7k3b5vyd6hjw2ra --failed -o json | jq -r '.[].event'
		`),
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&opts.Failed, "failed", false, "Show only the deliveries given up on")
	cmd.Flags().IntVar(&opts.Limit, "limit", 50, "Show at most this many deliveries, newest first")
	checkID := delete.CheckID(&opts.Subscription)
	return api.Command(f, cmd, opts, func(args []string) error {
		if opts.Limit <= 0 {
			return cmdutil.FlagErrorf("--limit must be at least 1")
		}
		return checkID(args)
	}, runF, deliveriesRun)
}

func deliveriesRun(ctx context.Context, opts *DeliveriesOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	list := []events.DeliveryView{}
	cursor := ""
	for len(list) < opts.Limit {
		page, err := shared.ListDeliveries(ctx, client, opts.Subscription, opts.Failed, min(opts.Limit-len(list), maxPage), cursor)
		if err != nil {
			return shared.MapError(err, opts.Subscription)
		}
		list = append(list, page.Deliveries...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, list)
	}
	if len(list) == 0 {
		what := "deliveries"
		if opts.Failed {
			what = "failed deliveries"
		}
		_, err := fmt.Fprintf(opts.IO.ErrOut, "No %s to %s\n", what, opts.Subscription)
		return err
	}
	header := []string{"EVENT", "TYPE", "SUBJECT", "TIME", "STATE", "ATTEMPTS", "LAST", "NEXT RETRY"}
	rows := make([][]string, 0, len(list))
	for _, d := range list {
		rows = append(rows, []string{d.Event, d.Type, cmdutil.OneLine(d.Subject), d.Time, d.State,
			strconv.Itoa(d.Attempts), last(d), cmp.Or(d.NextAttempt, "-")})
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.OutStyles(), header, rows)
}

// last is the sink's last answer, or "-" before the first attempt.
func last(d events.DeliveryView) string {
	switch {
	case d.LastError != "":
		return cmdutil.OneLine(d.LastError)
	case d.LastStatus != 0:
		return strconv.Itoa(d.LastStatus)
	}
	return "-"
}
