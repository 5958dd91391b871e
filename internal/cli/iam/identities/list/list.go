// Package list is the `chainctl iam identities list` command.
package list

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/shared"
)

// ListOptions are the inputs of `chainctl iam identities list`.
type ListOptions struct {
	api.Remote
}

// NewCmdList returns `chainctl iam identities list`. runF replaces
// listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the identities the registry trusts",
		Long: cmdutil.Heredoc(`
			List the identities of the registry: those of its configuration file (source
			"config", which cannot be changed through the API) and those created with
			"chainctl iam identities create" (source "api").

			SUBJECT shows the exact subject, a subject pattern prefixed with "~", or else
			the claim conditions (name=value, name~pattern) that pin the principal. ROLES
			shows each binding as ROLE:PATTERN[,PATTERN...].

			Listing needs a session with the owner role; an owner sees only the
			identities whose roles lie within the repositories it owns, so an empty list
			does not mean that the registry trusts no one. The registry and the
			session are those of "chainctl auth login" unless flags or the environment
			say otherwise (see "chainctl iam identities --help"); the session token is
			never printed.

			"-o json" prints the array of identities as the API returns them.
		`),
		Example: cmdutil.Examples(`
			$ chainctl iam identities list --registry https://registry.example.com
			$ chainctl iam identities list -o json | jq -r '.[] | select(.source == "api") | .id'
		`),
		Args: cobra.NoArgs,
	}
	return api.Command(f, cmd, opts, nil, runF, listRun)
}

// emptyList is what an empty list says. An owner sees only the identities
// within its repositories, so an empty list is not an empty registry.
const emptyList = "No identities that you manage. The list shows only the identities whose roles lie within\n" +
	"repositories you own; others may exist."

func listRun(ctx context.Context, opts *ListOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	ids, err := shared.ListIdentities(ctx, client)
	if err != nil {
		return shared.MapError(err, "")
	}
	if opts.Output == cmdutil.OutputJSON {
		if ids == nil {
			ids = []shared.Identity{} // [] rather than null
		}
		return cmdutil.WriteJSON(opts.IO.Out, ids)
	}
	if len(ids) == 0 {
		// On stderr: stdout stays empty for scripts. Other identities may
		// exist that this caller cannot see; do not say there are none.
		_, err := fmt.Fprintln(opts.IO.ErrOut, emptyList)
		return err
	}
	rows := make([][]string, 0, len(ids))
	for _, id := range ids {
		roles := make([]string, len(id.Roles))
		for i, b := range id.Roles {
			roles[i] = shared.RoleString(b)
		}
		rows = append(rows, []string{id.ID, id.Name, id.Issuer, shared.Principal(id.Identity), strings.Join(roles, " "), id.Source})
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.OutStyles(),
		[]string{"ID", "NAME", "ISSUER", "SUBJECT", "ROLES", "SOURCE"}, rows)
}
