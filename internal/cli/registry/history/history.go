// Package history is the `chainctl registry history` command.
package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
)

// HistoryOptions are the inputs of `chainctl registry history`.
type HistoryOptions struct {
	api.Remote
	Repository, Tag string
	// At, when not zero, asks only what the tag pointed at then.
	At    time.Time
	atArg string
	Now   func() time.Time
}

// History is the registry's answer.
type History struct {
	Name    string           `json:"name"`
	Tag     string           `json:"tag"`
	History []events.TagMove `json:"history"`
}

// NewCmdHistory returns `chainctl registry history`. runF replaces
// historyRun in tests.
func NewCmdHistory(f *cmdutil.Factory, runF func(context.Context, *HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{Now: time.Now}
	cmd := &cobra.Command{
		Use:   "history REPOSITORY:TAG",
		Short: "Show every digest a tag has pointed to, when it moved and who moved it",
		Long: cmdutil.Heredoc(`
			Show the history of a tag, newest first: each digest a push pointed it at,
			when, by whom (identity:ID or pull-token:ID), from which address and client,
			and the digest it pointed at before. Anyone who may pull the repository may
			read it (GET /v2/REPOSITORY/_chainctl/history/TAG).

			The history comes from the registry's push events, so it goes back as far as
			events.retention (7 days by default). Deleting a tag is not a push: it does
			not show.

			--at TIME prints only the digest the tag pointed at then.
		`),
		Example: cmdutil.Examples(`
			$ chainctl registry history acme/app:latest
			# What did latest point to on Monday morning?
			$ chainctl registry history acme/app:latest --at 2026-05-04T09:00:00Z
		`),
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&opts.atArg, "at", "", "print only what the tag pointed at at `TIME`: RFC 3339, a date, or a duration back from now")
	check := func(args []string) error {
		i := strings.LastIndex(args[0], ":")
		if i < 0 || strings.Contains(args[0][i:], "/") {
			return cmdutil.FlagErrorf("want REPOSITORY:TAG, such as acme/app:latest, not %q", args[0])
		}
		opts.Repository, opts.Tag = args[0][:i], args[0][i+1:]
		if err := policy.CheckRepository(opts.Repository); err != nil || opts.Tag == "" {
			return cmdutil.FlagErrorf("want REPOSITORY:TAG, such as acme/app:latest, not %q", args[0])
		}
		if opts.atArg != "" {
			at, err := events.ParseTime(opts.atArg, opts.Now())
			if err != nil {
				return cmdutil.FlagErrorf("--at: %v", err)
			}
			opts.At = at
		}
		return nil
	}
	return api.Command(f, cmd, opts, check, runF, historyRun)
}

func historyRun(ctx context.Context, opts *HistoryOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	var h History
	err = client.GetV2(ctx, opts.Repository+"/_chainctl/history/"+opts.Tag, []string{"repository:" + opts.Repository + ":pull"}, &h)
	if err != nil {
		return mapError(err, opts)
	}
	if !opts.At.IsZero() {
		h.History = pointedAt(h.History, opts.At)
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, h)
	}
	if len(h.History) == 0 {
		msg := fmt.Sprintf("No pushes of %s:%s in the event log (it goes back as far as the registry's events.retention).", opts.Repository, opts.Tag)
		if !opts.At.IsZero() {
			msg = fmt.Sprintf("%s:%s was not pushed before %s within the event log.", opts.Repository, opts.Tag, opts.At.Format(time.RFC3339))
		}
		_, err := fmt.Fprintln(opts.IO.ErrOut, msg)
		return err
	}
	rows := make([][]string, 0, len(h.History))
	for _, m := range h.History {
		when := m.When
		if t, err := time.Parse(time.RFC3339Nano, m.When); err == nil {
			when = t.Local().Format("2006-01-02 15:04:05")
		}
		rows = append(rows, []string{when, m.Digest, m.ActorKey, cmp.Or(m.RemoteAddr, "-"), cmp.Or(m.UserAgent, "-"), cmp.Or(m.Previous, "-")})
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.OutStyles(), []string{"WHEN", "DIGEST", "BY", "ADDRESS", "CLIENT", "BEFORE"}, rows)
}

// pointedAt is the move in effect at t (moves newest first), if any.
func pointedAt(moves []events.TagMove, t time.Time) []events.TagMove {
	for _, m := range moves {
		if when, err := time.Parse(time.RFC3339Nano, m.When); err == nil && !when.After(t) {
			return []events.TagMove{m}
		}
	}
	return []events.TagMove{}
}

func mapError(err error, opts *HistoryOptions) error {
	var apiErr *api.Error
	switch {
	case api.IsUnauthorized(err):
		return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: err, Hint: "run `chainctl auth login`"}}
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden):
		return fmt.Errorf("you may not pull %s, so you may not read its tags' history", opts.Repository)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.Code == "NOT_FOUND":
		return &cmdutil.HintError{Err: errors.New("this registry has no tag history"), Hint: "it may be older than `chainctl registry history`: upgrade it"}
	}
	return err
}
