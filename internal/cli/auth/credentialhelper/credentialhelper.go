// Package credentialhelper is `chainctl auth credential-helper`: the
// docker credential-helper protocol (get, store, erase, list) as a chainctl
// command, running the same code as docker-credential-chainctl.
package credentialhelper

import (
	"context"
	"github.com/chainctl/chainctl/internal/cli/auth/shared"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/tokencache"
	"github.com/chainctl/chainctl/internal/version"
)

// CredentialHelperOptions are the inputs of `chainctl auth credential-helper`.
type CredentialHelperOptions struct {
	IO *iostreams.IOStreams
	// OpenCache opens the token cache (credhelper.OpenDefault outside tests).
	OpenCache func() (*tokencache.Cache, error)
	// Action is get, store, erase or list.
	Action string
}

// NewCmdCredentialHelper returns `chainctl auth credential-helper`. runF
// replaces credentialHelperRun in tests.
func NewCmdCredentialHelper(f *cmdutil.Factory, runF func(context.Context, *CredentialHelperOptions) error) *cobra.Command {
	opts := &CredentialHelperOptions{IO: f.IOStreams, OpenCache: credhelper.OpenDefault}
	cmd := &cobra.Command{
		Use:   "credential-helper <get|store|erase|list>",
		Short: "Answer docker's credential-helper protocol",
		Long: cmdutil.Heredoc(`
			Speak the docker credential-helper protocol on standard input and output, as
			docker-credential-chainctl does (docker runs that name; see "chainctl auth
			configure-docker").

			  get    reads a server URL and prints {"ServerURL","Username","Secret"}
			  store  reads {"ServerURL","Username","Secret"} and keeps it in the token cache
			  erase  reads a server URL and forgets what store kept for it
			  list   prints {"HOST":"USERNAME"} for every stored credential

			A server without credentials gets "credentials not found in native keychain"
			and exit status 1. Secrets are printed only by get, on standard output, and
			never to standard error or the --debug log.
		`),
		Example: cmdutil.Examples(`
			$ echo registry.example.com | chainctl auth credential-helper get
		`),
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase", "list"},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "get", "store", "erase", "list":
			default:
				return cmdutil.FlagErrorf("unknown action %q: want get, store, erase or list", args[0])
			}
			opts.Action = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return credentialHelperRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func credentialHelperRun(ctx context.Context, opts *CredentialHelperOptions) error {
	h := credhelper.New(version.Get().Version, opts.OpenCache, shared.DefaultRegistry)
	h.Name = "chainctl auth credential-helper"
	if code := h.Run(ctx, []string{opts.Action}, opts.IO.In, opts.IO.Out, opts.IO.ErrOut); code != 0 {
		// The helper has printed the protocol's answer on stdout; an
		// error line from chainctl as well would break the protocol.
		return cmdutil.ErrSilent
	}
	return nil
}
