// Package credentialhelper is `chainctl auth credential-helper`: the
// docker credential-helper protocol (get, store, erase, list) as a chainctl
// command, running the same code as docker-credential-chainctl.
package credentialhelper

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
	"github.com/chainctl/chainctl/internal/version"
)

// CredentialHelperOptions are the inputs of `chainctl auth credential-helper`.
type CredentialHelperOptions struct {
	IO *iostreams.IOStreams
	// OpenCache opens the token cache (credhelper.OpenDefault outside tests).
	OpenCache func() (*tokencache.Cache, error)
	// UserConfig is the user configuration, for its default registry.
	UserConfig func() (config.User, error)
	// Action is get, store, erase or list.
	Action string
}

// NewCmdCredentialHelper returns `chainctl auth credential-helper`. runF
// replaces credentialHelperRun in tests.
func NewCmdCredentialHelper(f *cmdutil.Factory, runF func(context.Context, *CredentialHelperOptions) error) *cobra.Command {
	opts := &CredentialHelperOptions{IO: f.IOStreams, OpenCache: credhelper.OpenDefault, UserConfig: f.UserConfig}
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

			A stored credential (a pull token, say) sits beside the "chainctl auth login"
			session of the same registry: get answers with the stored credential while
			there is one, chainctl's own commands keep using the session, and erase
			("docker logout HOST") forgets only the stored credential.

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

// NewHelper returns the helper chainctl runs as `chainctl auth
// credential-helper` (which the standalone docker-credential-chainctl runs
// when its cache has nothing usable) and as docker-credential-chainctl when
// linked under that name: every action on the token cache open returns,
// with "get" renewing sessions of configured registries from ambient
// credentials (session.Resolve). defaultRegistry returns the user's
// default registry ("" for none).
func NewHelper(version string, open func() (*tokencache.Cache, error), defaultRegistry func() string) *credhelper.Helper {
	minLife, err := credhelper.MinLife(os.Getenv)
	if err != nil {
		// Standalone reports the same error on every action.
		return credhelper.Standalone(version, os.Getenv)
	}
	c := credhelper.NewCache(open, credhelper.WithMinLife(minLife),
		credhelper.WithResolver(resolveSession, registryFor(defaultRegistry)))
	return &credhelper.Helper{Source: c, Store: c, Version: version}
}

// DefaultRegistry returns the registry of the user's configuration file
// (`chainctl config set registry`) as userConfig reads it, or "" when
// there is none or it cannot be read: the credential helper then answers
// only for hosts it has entries for.
func DefaultRegistry(userConfig func() (config.User, error)) func() string {
	return func() string {
		if userConfig == nil {
			return ""
		}
		u, err := userConfig()
		if err != nil {
			return ""
		}
		return u.Registry
	}
}

// resolveSession is the helper's credhelper.Resolver: session.Resolve on
// the helper's own cache, with ambient credentials from the environment.
func resolveSession(ctx context.Context, registry string, tc *tokencache.Cache, minLife time.Duration) (tokencache.Entry, error) {
	return session.Resolve(ctx, registry, session.WithCache(tc), session.WithMinLife(minLife))
}

// registryFor returns, for a host, the default registry's URL when host is
// its host, else "".
func registryFor(defaultRegistry func() string) func(host string) string {
	return func(host string) string {
		def := defaultRegistry()
		if def == "" {
			return ""
		}
		if r, err := session.ParseRegistry(def); err == nil && r.Host == host {
			return r.URL
		}
		return ""
	}
}

func credentialHelperRun(ctx context.Context, opts *CredentialHelperOptions) error {
	h := NewHelper(version.Get().Version, opts.OpenCache, DefaultRegistry(opts.UserConfig))
	h.Name = "chainctl auth credential-helper"
	if code := h.Run(ctx, []string{opts.Action}, opts.IO.In, opts.IO.Out, opts.IO.ErrOut); code != 0 {
		// The helper has printed the protocol's answer on stdout; an
		// error line from chainctl as well would break the protocol.
		return cmdutil.ErrSilent
	}
	return nil
}
