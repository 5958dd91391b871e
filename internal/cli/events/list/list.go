// Package list is the `chainctl events list` command.
package list

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/eventlog"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// followLag is how far back each poll of --follow looks before the
// newest event it printed: pulls are written in batches, so an event can
// appear in the log a moment after a later one. Events seen already are
// not printed again.
const followLag = 30 * time.Second

// maxPage is the registry's largest page.
const maxPage = 1000

// ListOptions are the inputs of `chainctl events list`.
type ListOptions struct {
	api.Remote
	Filter   eventlog.Filter
	Limit    int
	Follow   bool
	Interval time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

// NewCmdList returns `chainctl events list`. runF replaces listRun in
// tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{Now: time.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the pushes and pulls of your repositories: who, what, when, from where",
		Long: cmdutil.Heredoc(`
			List the registry's events, newest first: every push and every pull of a
			manifest (of blobs too, with events.blob_pulls), succeeded or failed, of the
			repositories you own. The log goes back as far as the registry's
			events.retention (7 days by default).

			On a terminal it prints a table: when, type, repository, tag or digest,
			actor (identity:ID, pull-token:ID or anonymous), client address and outcome.
			Piped, or with -o json, it prints one JSON object per line, as the registry
			returns them (user agent, method, media type and error included).

			--follow prints the latest events, then new ones as they are recorded, until
			interrupted: it polls the registry (every --interval), no subscription needed.
		`),
		Example: cmdutil.Examples(`
			# Who pulled acme/app:v1 in the last week?
			$ chainctl events list --repository acme/app --tag v1 --type pull --since 7d

			# Failed pulls of anything under acme/ today, as JSON lines
			$ chainctl events list --repository 'acme/*' --type pull --since 24h --failed -o json

			# Everything one CI pull token did
			$ chainctl events list --actor pt-2xk4... --since 30d

			# Watch pushes as they happen
			$ chainctl events list --type push --follow
		`),
		Args: cobra.NoArgs,
	}
	opts.Filter.AddFlags(cmd.Flags())
	cmd.Flags().IntVar(&opts.Limit, "limit", 100, "print at most `N` events (with --follow: at first)")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new events as they are recorded, until interrupted")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 2*time.Second, "with --follow, how often to ask the registry")
	check := func([]string) error {
		if opts.Limit < 1 {
			return cmdutil.FlagErrorf("--limit must be at least 1")
		}
		if opts.Interval < 100*time.Millisecond {
			return cmdutil.FlagErrorf("--interval must be at least 100ms")
		}
		return opts.Filter.Check(opts.Now())
	}
	return api.Command(f, cmd, opts, check, runF, listRun)
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	out := newPrinter(opts)
	q := opts.Filter.Values()
	var evs []eventlog.Event
	cursor := ""
	for len(evs) < opts.Limit {
		page, err := eventlog.List(ctx, client, q, min(opts.Limit-len(evs), maxPage), cursor)
		if err != nil {
			return eventlog.MapError(err)
		}
		evs = append(evs, page.Events...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !opts.Follow {
		if len(evs) == 0 && !out.json {
			_, err := fmt.Fprintln(opts.IO.ErrOut, "No events match.")
			return err
		}
		return out.print(evs)
	}
	// Following, the oldest first, so that new events come at the end.
	slices.Reverse(evs)
	if err := out.print(evs); err != nil {
		return err
	}
	return follow(ctx, opts, client, out, evs)
}

// follow polls for events newer than those printed until ctx ends.
func follow(ctx context.Context, opts *ListOptions, client *api.Client, out *printer, printed []eventlog.Event) error {
	seen := map[string]time.Time{}
	newest := opts.Now().Add(-followLag)
	note := func(e eventlog.Event) {
		t, _ := time.Parse(time.RFC3339Nano, e.Time)
		seen[e.ID] = t
		if t.After(newest) {
			newest = t
		}
	}
	for _, e := range printed {
		note(e)
	}
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		from := newest.Add(-followLag)
		q := opts.Filter.Values()
		if opts.Filter.Since == "" || from.After(sinceOf(opts)) {
			q.Set("since", from.UTC().Format(time.RFC3339Nano))
		}
		fresh, err := collectSince(ctx, client, q, seen)
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return eventlog.MapError(err)
		}
		slices.Reverse(fresh)
		for _, e := range fresh {
			note(e)
		}
		if err := out.print(fresh); err != nil {
			return err
		}
		for id, t := range seen {
			if t.Before(from) {
				delete(seen, id)
			}
		}
	}
}

// sinceOf is --since as a time, or zero.
func sinceOf(opts *ListOptions) time.Time {
	if opts.Filter.Since == "" {
		return time.Time{}
	}
	t, _ := events.ParseTime(opts.Filter.Since, opts.Now())
	return t
}

// collectSince pages through what q selects and returns, newest first,
// the events not in seen.
func collectSince(ctx context.Context, client *api.Client, q url.Values, seen map[string]time.Time) ([]eventlog.Event, error) {
	var out []eventlog.Event
	cursor := ""
	for {
		page, err := eventlog.List(ctx, client, q, maxPage, cursor)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			if _, ok := seen[e.ID]; !ok {
				out = append(out, e)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

// printer writes events as a table or as JSON lines.
type printer struct {
	w       io.Writer
	styles  *iostreams.Styles
	json    bool
	follow  bool
	started bool
}

func newPrinter(opts *ListOptions) *printer {
	return &printer{w: opts.IO.Out, styles: opts.IO.OutStyles(), follow: opts.Follow,
		json: opts.Output == cmdutil.OutputJSON || !opts.IO.IsStdoutTTY()}
}

var header = []string{"WHEN", "TYPE", "REPOSITORY", "TAG/DIGEST", "ACTOR", "ADDRESS", "OUTCOME"}

func (p *printer) print(evs []eventlog.Event) error {
	if p.json {
		for _, e := range evs {
			if _, err := fmt.Fprintf(p.w, "%s\n", compact(e.Raw)); err != nil {
				return err
			}
		}
		return nil
	}
	rows := make([][]string, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, row(e))
	}
	if !p.follow {
		return cmdutil.WriteTable(p.w, p.styles, header, rows)
	}
	// Following, rows come a few at a time: columns by tabs, a header once.
	if !p.started {
		p.started = true
		if _, err := fmt.Fprintln(p.w, p.styles.Bold(strings.Join(header, "\t"))); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if _, err := fmt.Fprintln(p.w, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	return nil
}

// row is an event's table row; text from clients (tags, user agents) is
// kept on its line and cannot drive the terminal.
func row(e eventlog.Event) []string {
	when := e.Time
	if t, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
		when = t.Local().Format("2006-01-02 15:04:05")
	}
	ref := e.Tag
	switch {
	case e.Tag != "" && e.Digest != "":
		ref = e.Tag + " " + short(e.Digest)
	case e.Tag == "":
		ref = short(e.Digest)
	}
	outcome := e.Outcome
	if e.Error != nil {
		outcome = fmt.Sprintf("failed: %d %s", e.Error.Status, e.Error.Code)
	}
	return []string{when, e.Type, cmdutil.OneLine(e.Repository), cmdutil.OneLine(ref), cmdutil.OneLine(e.ActorKey), cmdutil.OneLine(cmp.Or(e.RemoteAddr, "-")), cmdutil.OneLine(outcome)}
}

// short is a digest cut to its algorithm and 12 hex digits.
func short(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}

// compact is raw JSON on one line.
func compact(raw []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
