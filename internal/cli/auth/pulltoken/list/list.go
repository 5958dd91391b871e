// Package list is the `chainctl auth pull-token list` command.
package list

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

// ListOptions are the inputs of `chainctl auth pull-token list`.
type ListOptions struct {
	api.Remote

	// Expired lists expired tokens too.
	Expired bool
}

// NewCmdList returns `chainctl auth pull-token list`. runF replaces
// listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:     "list [--expired]",
		Aliases: []string{"ls"},
		Short:   "List the pull tokens of your repositories",
		Long: cmdutil.Heredoc(`
			List the pull tokens that have not expired, or all of them with --expired (a
			STATUS column then says which have). Revoked tokens are gone and not listed.
			Passwords are never listed: the registry shows them only once, when a token is
			created.

			Listing needs a session with the owner role. LAST USED is when the token last
			pulled, "never" if it has not. The registry and the session are
			those of "chainctl auth login" unless --registry, $CHAINCTL_REGISTRY,
			--token-file or $CHAINCTL_TOKEN say otherwise.

			"-o json" prints the array of tokens as the API returns them.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth pull-token list
			$ chainctl auth pull-token list --expired
			# Tokens that were never used
			$ chainctl auth pull-token list -o json | jq -r '.[] | select(.last_used == null) | .id'
		`),
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&opts.Expired, "expired", false, "list expired tokens too")
	return api.Command(f, cmd, opts, nil, runF, listRun)
}

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	tokens, err := shared.ListPullTokens(ctx, client, opts.Expired)
	if err != nil {
		return shared.MapError(err, "")
	}
	if opts.Output == cmdutil.OutputJSON {
		out := make([]map[string]json.RawMessage, 0, len(tokens))
		for _, t := range tokens {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(t.Raw, &obj); err != nil {
				return fmt.Errorf("decode pull token: %w", err)
			}
			// Never printed outside create, even if a registry sent it.
			delete(obj, "secret")
			out = append(out, obj)
		}
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	if len(tokens) == 0 {
		msg := "No pull tokens"
		if !opts.Expired {
			msg += " (--expired lists expired ones too)"
		}
		_, err := fmt.Fprintf(opts.IO.ErrOut, "%s; create one with `chainctl auth pull-token create --repository PATTERN`\n", msg)
		return err
	}
	header := []string{"ID", "NAME", "REPOSITORIES", "EXPIRES", "LAST USED", "CREATOR"}
	if opts.Expired {
		header = append(header, "STATUS")
	}
	rows := make([][]string, 0, len(tokens))
	for _, t := range tokens {
		lastUsed := t.LastUsed
		if lastUsed == "" {
			lastUsed = "never"
		}
		row := []string{t.ID, t.Name, strings.Join(t.Repositories, ","), t.Expires, lastUsed, t.Creator}
		if opts.Expired {
			status := "active"
			if t.Expired {
				status = "expired"
			}
			row = append(row, status)
		}
		rows = append(rows, row)
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.OutStyles(), header, rows)
}
