// Package cmdutil holds what every chainctl command shares: the Factory that
// hands out dependencies, the global flags, and the error types that
// internal/cli maps to exit codes. It lives apart from internal/cli because
// the command packages import it and internal/cli imports them.
package cmdutil

import (
	"net/http"

	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/spf13/pflag"
)

// Factory gives commands their dependencies. Commands copy what they need
// into their XOptions struct in NewCmdX, and read lazily evaluated values
// (Globals) only in RunE, after flags are parsed.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Globals are the root command's persistent flags.
	Globals *Globals
	// LookupEnv reads the environment (os.LookupEnv outside tests).
	LookupEnv func(key string) (string, bool)
	// HTTPClient returns the client for calls to a registry's API, with
	// timeouts set. Tests replace it with one on a stub transport.
	HTTPClient func() (*http.Client, error)
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
