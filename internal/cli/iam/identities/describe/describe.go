// Package describe is the `chainctl iam identities describe` command.
package describe

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/shared"
)

// DescribeOptions are the inputs of `chainctl iam identities describe`.
type DescribeOptions struct {
	api.Remote

	ID string
}

// NewCmdDescribe returns `chainctl iam identities describe`. runF replaces
// describeRun in tests.
func NewCmdDescribe(f *cmdutil.Factory, runF func(context.Context, *DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{}
	cmd := &cobra.Command{
		Use:   "describe ID",
		Short: "Show every field of one identity",
		Long: cmdutil.Heredoc(`
			Show one identity: its issuer and where its keys come from, the subject or
			subject pattern, the audience, every claim condition (name=value exact,
			name~pattern a whole-value regular expression), whether it accepts any
			subject, its role bindings, and where it comes from (the configuration file,
			or the API with its creation time and creator).

			Describing needs a session with the owner role on the repositories the
			identity's roles name. The registry and the session are those of "chainctl
			auth login" unless flags or the environment say otherwise (see "chainctl iam
			identities --help"); the session token is never printed. "-o json" prints the
			identity as the API returns it.
		`),
		Example: cmdutil.Examples(`
			$ chainctl iam identities describe github-acme-app
			$ chainctl iam identities describe github-acme-app -o json | jq .roles
		`),
		Args: cobra.ExactArgs(1),
	}
	return api.Command(f, cmd, opts, func(args []string) error {
		opts.ID = args[0]
		return nil
	}, runF, describeRun)
}

func describeRun(ctx context.Context, opts *DescribeOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	id, err := shared.GetIdentity(ctx, client, opts.ID)
	if err != nil {
		return shared.MapError(err, opts.ID)
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, id)
	}
	return shared.PrintIdentity(opts.IO, id)
}
