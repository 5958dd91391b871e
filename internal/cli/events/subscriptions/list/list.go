// Package list is the `chainctl events subscriptions list` command.
package list

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/events"
)

// ListOptions are the inputs of `chainctl events subscriptions list`.
type ListOptions struct {
	api.Remote
}

// NewCmdList returns `chainctl events subscriptions list`. runF replaces
// listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List event subscriptions and how their deliveries fare",
		Long: cmdutil.Heredoc(`
			List the event subscriptions of your repositories, with the health of each:

			  STATUS        active, or disabled and why (a sink that answered 410 Gone
			                disables its subscription)
			  PENDING       events waiting to be delivered, retries included
			  FAILED        events given up on after about a day of retries
			  LAST SUCCESS  when the sink last accepted an event ("never" if it has not)
			  LAST ERROR    when the last delivery failed, and how

			A growing PENDING with a recent LAST ERROR is a sink that is down or refuses
			the registry's deliveries (check that it verifies the token against the URL
			it was subscribed with).

			The registry and the session are those of "chainctl auth login" unless
			--registry, $CHAINCTL_REGISTRY, --token-file or $CHAINCTL_TOKEN say
			otherwise. "-o json" prints the array of subscriptions as the registry returns
			them.
		`),
		Example: cmdutil.Examples(`
			$ chainctl events subscriptions list
			# Subscriptions with events waiting
			$ chainctl events subscriptions list -o json | jq -r '.[] | select(.health.pending > 0) | .id'
		`),
		Args: cobra.NoArgs,
	}
	return api.Command(f, cmd, opts, nil, runF, listRun)
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	subs, err := shared.ListSubscriptions(ctx, client)
	if err != nil {
		return shared.MapError(err, "")
	}
	if opts.Output == cmdutil.OutputJSON {
		out := make([]json.RawMessage, 0, len(subs))
		for _, s := range subs {
			out = append(out, s.Raw)
		}
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	if len(subs) == 0 {
		_, err := fmt.Fprintln(opts.IO.ErrOut, "No subscriptions; create one with `chainctl events subscriptions create SINK --repository PATTERN`")
		return err
	}
	header := []string{"ID", "SINK", "TYPES", "REPOSITORIES", "STATUS", "PENDING", "FAILED", "LAST SUCCESS", "LAST ERROR"}
	rows := make([][]string, 0, len(subs))
	for _, s := range subs {
		types := make([]string, len(s.Types))
		for i, t := range s.Types {
			types[i] = events.ShortType(t)
		}
		h := s.Health
		rows = append(rows, []string{
			s.ID, s.Sink, strings.Join(types, ","), strings.Join(s.Repositories, ","), status(&s),
			strconv.FormatInt(h.Pending, 10), strconv.FormatInt(h.Failed, 10),
			cmp.Or(h.LastSuccess, "never"), lastError(h),
		})
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.OutStyles(), header, rows)
}

func status(s *shared.Subscription) string {
	switch {
	case !s.Disabled:
		return "active"
	case s.DisabledReason != "":
		return "disabled: " + cmdutil.OneLine(s.DisabledReason)
	}
	return "disabled"
}

// lastError is when the last delivery failed and how, or "-".
func lastError(h events.Health) string {
	if h.LastError == "" && h.LastErrorAt == "" {
		return "-"
	}
	return strings.TrimSpace(h.LastErrorAt + " " + cmdutil.OneLine(h.LastError))
}
