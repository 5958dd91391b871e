// Package cmdutil holds what every chainctl command shares: the Factory that
// hands out dependencies, the global flags, and the error types that
// internal/cli maps to exit codes. It lives apart from internal/cli because
// the command packages import it and internal/cli imports them.
package cmdutil

import (
	"context"
	"net/http"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// Factory gives commands their dependencies. Commands copy what they need
// into their XOptions struct in NewCmdX and call the functions only in
// RunE or xRun, after flags are parsed: none of them is evaluated before a
// command asks, and internal/cli.NewFactory computes each value at most
// once per run (per argument, where there is one). Tests set fakes.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Globals are the root command's persistent flags.
	Globals *Globals
	// LookupEnv reads the environment (os.LookupEnv outside tests).
	LookupEnv func(key string) (string, bool)
	// HTTPClient returns the client for calls to a registry's API, with
	// timeouts set. Tests replace it with one on a stub transport.
	HTTPClient func() (*http.Client, error)

	// UserConfig returns the user configuration file (`chainctl config`);
	// a missing file is the zero config.User.
	UserConfig func() (config.User, error)
	// TokenCache opens the per-registry token cache in its default
	// directory.
	TokenCache func() (*tokencache.Cache, error)
	// Registry returns the registry a command talks to: flag (the value
	// of the command's --registry), else $CHAINCTL_REGISTRY, else
	// UserConfig's registry. With none of them it returns a *HintError
	// naming the three; an address session.ParseRegistry refuses is a
	// *FlagError.
	Registry func(flag string) (session.Registry, error)
	// Session returns the login session of reg: the token cache's entry
	// while it has $CHAINCTL_TOKEN_MIN_LIFE left, else one exchanged from
	// ambient CI credentials. Not being logged in is an *AuthError (exit
	// 4) whose hint names the `chainctl auth login` to run; a registry
	// that does not answer is a *HintError saying so. (The iam commands
	// look at --token-file and $CHAINCTL_TOKEN before they ask.)
	Session func(ctx context.Context, reg session.Registry) (tokencache.Entry, error)
	// OpenBrowser asks the desktop to open url, best effort: the caller
	// prints the URL whatever happens.
	OpenBrowser func(ctx context.Context, url string) error
}

// Globals are the flags every command accepts.
type Globals struct {
	Output OutputFormat
	Debug  bool
}

// AddFlags registers the global flags on fs (the root's persistent flags).
func (g *Globals) AddFlags(fs *pflag.FlagSet) {
	if g.Output == "" {
		g.Output = OutputTable
	}
	fs.VarP(&g.Output, "output", "o", "output format: table or json")
	fs.BoolVar(&g.Debug, "debug", false, "log debug details to stderr")
}
