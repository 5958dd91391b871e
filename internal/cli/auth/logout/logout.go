// Package logout is the `chainctl auth logout` command.
package logout

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// LogoutOptions are the inputs of `chainctl auth logout`.
type LogoutOptions struct {
	IO    *iostreams.IOStreams
	Cache func() (*tokencache.Cache, error)
	// Registry resolves RegistryFlag (Factory.Registry).
	Registry func(flag string) (session.Registry, error)
	Output   cmdutil.OutputFormat

	RegistryFlag string
	All          bool
}

// NewCmdLogout returns `chainctl auth logout`. runF replaces logoutRun in tests.
func NewCmdLogout(f *cmdutil.Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IOStreams, Cache: f.TokenCache, Registry: f.Registry}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the cached session of a registry",
		Long: cmdutil.Heredoc(`
			Delete the cached session of a registry, or of every registry with --all.
			Ambient CI credentials are not affected: the next command in CI logs in again.
			Logging out of a registry you are not logged in to is not an error.

			Credentials stored for docker (by "docker login" through the credential
			helper, or "chainctl auth pull-token create --save") are kept: "docker logout
			HOST" removes them.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth logout --registry registry.example.com
			$ chainctl auth logout --all
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.All && opts.RegistryFlag != "" {
				return cmdutil.FlagErrorf("--all and --registry cannot be used together")
			}
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return logoutRun(cmd.Context(), opts)
		},
	}
	shared.AddRegistryFlag(cmd.Flags(), &opts.RegistryFlag)
	cmd.Flags().BoolVar(&opts.All, "all", false, "log out of every registry")
	return cmdutil.SupportJSON(cmd)
}

// JSON is the -o json output.
type JSON struct {
	LoggedOut []string `json:"logged_out"`
}

func logoutRun(_ context.Context, opts *LogoutOptions) error {
	cache, err := opts.Cache()
	if err != nil {
		return err
	}
	var hosts []string
	if opts.All {
		if hosts, err = cache.List(); err != nil {
			return err
		}
	} else {
		reg, err := opts.Registry(opts.RegistryFlag)
		if err != nil {
			return err
		}
		hosts = []string{reg.Host}
	}
	for _, h := range hosts {
		if err := cache.Delete(h); err != nil {
			return err
		}
	}
	if opts.Output == cmdutil.OutputJSON {
		if hosts == nil {
			hosts = []string{}
		}
		return cmdutil.WriteJSON(opts.IO.Out, JSON{LoggedOut: hosts})
	}
	st := opts.IO.OutStyles()
	if len(hosts) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No cached sessions")
		return err
	}
	for _, h := range hosts {
		if _, err := fmt.Fprintf(opts.IO.Out, "%s Logged out of %s\n", st.Success("✓"), st.Bold(h)); err != nil {
			return err
		}
	}
	return nil
}
