// Package delete is the `chainctl events subscriptions delete` command.
package delete

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
// and drops repeats, before anything is deleted: a typo is a
// *cmdutil.FlagError that names every bad argument.
func ParseIDs(args []string) ([]string, error) {
	var ids, bad []string
	for _, a := range args {
		switch {
		case !shared.ValidID(a):
			bad = append(bad, fmt.Sprintf("%q", a))
		case !slices.Contains(ids, a):
			ids = append(ids, a)
		}
	}
	if len(bad) > 0 {
		what := "is not a subscription id"
		if len(bad) > 1 {
			what = "are not subscription ids"
		}
		return nil, cmdutil.FlagErrorf("%s %s: an id is sub- and 20 characters a-z and 2-7, as `chainctl events subscriptions list` shows",
			joinList(bad), what)
	}
	return ids, nil
}

// joinList joins s as "a", "a and b" or "a, b and c".
func joinList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

type result struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
	Error   string `json:"error,omitempty"`
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	results := make([]result, 0, len(opts.IDs))
	var failed []error
	st, est := opts.IO.OutStyles(), opts.IO.ErrStyles()
	for _, id := range opts.IDs {
		if err := shared.DeleteSubscription(ctx, client, id); err != nil {
			err = shared.MapError(err, id)
			failed = append(failed, err)
			results = append(results, result{ID: id, Error: err.Error()})
			if opts.Output != cmdutil.OutputJSON && len(opts.IDs) > 1 {
				fmt.Fprintf(opts.IO.ErrOut, "%s %s: %v\n", est.Error("X"), id, err)
			}
			continue
		}
		results = append(results, result{ID: id, Deleted: true})
		if opts.Output != cmdutil.OutputJSON {
			if _, err := fmt.Fprintf(opts.IO.Out, "%s Deleted subscription %s\n", st.Success("✓"), st.Bold(id)); err != nil {
				return err
			}
		}
	}
	if opts.Output == cmdutil.OutputJSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, results); err != nil {
			return err
		}
	}
	return summarize(failed, len(opts.IDs))
}

// summarize is the command's error: nil if nothing failed, the one error
// of a single ID as it is, and otherwise a count with the first failure's
// hint. It is an *cmdutil.AuthError (exit 4) when every failure was one.
// (pull-token revoke words its own the same way.)
func summarize(failed []error, n int) error {
	if len(failed) == 0 {
		return nil
	}
	if n == 1 {
		return failed[0]
	}
	allAuth := true
	var hint string
	for _, err := range failed {
		var ae *cmdutil.AuthError
		if !errors.As(err, &ae) {
			allAuth = false
		}
		var he *cmdutil.HintError
		if hint == "" && errors.As(err, &he) {
			hint = he.Hint
		}
	}
	var err error = fmt.Errorf("%d of %d subscriptions not deleted", len(failed), n)
	if hint != "" {
		err = &cmdutil.HintError{Err: err, Hint: hint}
	}
	if allAuth {
		err = &cmdutil.AuthError{Err: err}
	}
	return err
}
