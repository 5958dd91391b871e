package api

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

// Options is what Command needs of a command's XOptions: that they embed
// a Remote. Its one method is unexported, so embedding is the only way to
// satisfy it.
type Options interface {
	remote() *Remote
}

func (r *Remote) remote() *Remote { return r }

// Command makes cmd a command on the registry's /api/v1 and returns it.
// The Remote in opts gets the Factory's IOStreams and HTTPClient, cmd gets
// --registry and --token-file, and cmd's RunE
//
//  1. calls check with the arguments, if check is not nil: the command's
//     own flags and arguments go into opts there, and usage errors
//     (cmdutil.FlagError) come out before anything else is looked at;
//  2. resolves the registry and the session token's source (Remote.Resolve);
//  3. calls runF if it is not nil (tests), else run.
//
// A resource command is then its XOptions embedding Remote, a cobra.Command
// with its help and flags, and run:
//
//	opts := &ListOptions{}
//	return api.Command(f, &cobra.Command{Use: "list", ...}, opts, nil, runF, listRun)
func Command[O Options](f *cmdutil.Factory, cmd *cobra.Command, opts O, check func(args []string) error, runF, run func(context.Context, O) error) *cobra.Command {
	r := opts.remote()
	r.IO, r.HTTPClient = f.IOStreams, f.HTTPClient
	r.AddFlags(cmd.Flags())
	cmdutil.SupportJSON(cmd) // every API command prints what it got as JSON
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if check != nil {
			if err := check(args); err != nil {
				return err
			}
		}
		if err := r.Resolve(f); err != nil {
			return err
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return run(cmd.Context(), opts)
	}
	return cmd
}
