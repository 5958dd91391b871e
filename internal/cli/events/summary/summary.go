// Package summary is the `chainctl events summary` command.
package summary

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/eventlog"
	"github.com/chainctl/chainctl/internal/events"
)

// SummaryOptions are the inputs of `chainctl events summary`.
type SummaryOptions struct {
	api.Remote
	Filter eventlog.Filter
	// Now is the clock (time.Now).
	Now func() time.Time
}

// NewCmdSummary returns `chainctl events summary`. runF replaces
// summaryRun in tests.
func NewCmdSummary(f *cmdutil.Factory, runF func(context.Context, *SummaryOptions) error) *cobra.Command {
	opts := &SummaryOptions{Now: time.Now}
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Count pulls and pushes per repository and per actor, and failures by code",
		Long: cmdutil.Heredoc(`
			Sum up the event log of the repositories you own: pulls, pushes and failures
			per repository and per actor (identity:ID, pull-token:ID, anonymous), and the
			failed requests by error code (DENIED, UNAUTHORIZED, MANIFEST_UNKNOWN, ...).

			The registry counts (GROUP BY in its database), so a week of a busy registry
			costs a few rows on the wire. The log goes back as far as events.retention.
			"-o json" prints the registry's answer as it is.
		`),
		Example: cmdutil.Examples(`
			$ chainctl events summary --repository 'acme/*' --since 7d
			$ chainctl events summary --since 24h --failed -o json | jq '.failures'
		`),
		Args: cobra.NoArgs,
	}
	opts.Filter.AddFlags(cmd.Flags())
	check := func([]string) error { return opts.Filter.Check(opts.Now()) }
	return api.Command(f, cmd, opts, check, runF, summaryRun)
}

func summaryRun(ctx context.Context, opts *SummaryOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	sum, raw, err := eventlog.Summary(ctx, client, opts.Filter.Values())
	if err != nil {
		return eventlog.MapError(err)
	}
	if opts.Output == cmdutil.OutputJSON {
		_, err := fmt.Fprintf(opts.IO.Out, "%s\n", raw)
		return err
	}
	if sum.Total == 0 {
		_, err := fmt.Fprintln(opts.IO.ErrOut, "No events match.")
		return err
	}
	w, st := opts.IO.Out, opts.IO.OutStyles()
	if _, err := fmt.Fprintf(w, "%d events\n\n", sum.Total); err != nil {
		return err
	}
	if err := cmdutil.WriteTable(w, st, []string{"REPOSITORY", "PULLS", "PUSHES", "FAILED"}, counts(sum.Repositories)); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := cmdutil.WriteTable(w, st, []string{"ACTOR", "PULLS", "PUSHES", "FAILED"}, counts(sum.Actors)); err != nil {
		return err
	}
	if len(sum.Failures) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(sum.Failures))
	for _, f := range sum.Failures {
		rows = append(rows, []string{f.Code, strconv.FormatInt(f.Count, 10)})
	}
	return cmdutil.WriteTable(w, st, []string{"FAILED WITH", "COUNT"}, rows)
}

func counts(rs []events.SummaryRow) [][]string {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		rows = append(rows, []string{r.Name, strconv.FormatInt(r.Pulls, 10), strconv.FormatInt(r.Pushes, 10), strconv.FormatInt(r.Failed, 10)})
	}
	return rows
}
