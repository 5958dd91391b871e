// Package delete is the `chainctl iam identities delete` command.
package delete

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/shared"
)

// DeleteOptions are the inputs of `chainctl iam identities delete`.
type DeleteOptions struct {
	api.Remote

	ID  string
	Yes bool
}

// NewCmdDelete returns `chainctl iam identities delete`. runF replaces
// deleteRun in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Stop trusting an identity",
		Long: cmdutil.Heredoc(`
			Delete an identity created through the API. Tokens it accepted are refused
			from then on, and the session and access tokens already issued for it stop
			working at once (on other replicas of the registry, within 30 seconds).

			Deleting needs a session with the owner role on every repository the
			identity's roles name. Identities of the registry's configuration file
			cannot be deleted here; remove them from the file.

			On a terminal the command asks for confirmation; --yes skips the question,
			and is required when there is no terminal to ask on. The registry and the
			session are those of "chainctl auth login" unless flags or the environment
			say otherwise (see "chainctl iam identities --help"); the session token is
			never printed.
		`),
		Example: cmdutil.Examples(`
			$ chainctl iam identities delete github-acme-app
			$ chainctl iam identities delete github-acme-app --yes
		`),
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking for confirmation")
	return api.Command(f, cmd, opts, func(args []string) error {
		opts.ID = args[0]
		if !opts.Yes && !opts.IO.CanPrompt() {
			return cmdutil.FlagErrorf("--yes is required when not running interactively")
		}
		return nil
	}, runF, deleteRun)
}

// JSON is the -o json output.
type JSON struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	if !opts.Yes {
		fmt.Fprintf(opts.IO.ErrOut, "Delete identity %q? Tokens it accepts will be refused. [y/N] ", opts.ID)
		answer, err := bufio.NewReader(opts.IO.In).ReadString('\n')
		if err != nil && answer == "" {
			return cmdutil.ErrCancel
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return cmdutil.ErrCancel
		}
	}
	if err := shared.DeleteIdentity(ctx, client, opts.ID); err != nil {
		return shared.MapError(err, opts.ID)
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, JSON{ID: opts.ID, Deleted: true})
	}
	if opts.IO.IsStdoutTTY() {
		st := opts.IO.OutStyles()
		_, err := fmt.Fprintf(opts.IO.Out, "%s Deleted identity %s\n", st.Success("✓"), st.Bold(opts.ID))
		return err
	}
	return nil
}
