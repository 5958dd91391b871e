package cli

import (
	"net/http"
	"os"
	"time"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// NewFactory returns the Factory for a real run on ios.
func NewFactory(ios *iostreams.IOStreams) *cmdutil.Factory {
	globals := &cmdutil.Globals{Output: cmdutil.OutputTable}
	f := &cmdutil.Factory{
		IOStreams: ios,
		Globals:   globals,
		LookupEnv: os.LookupEnv,
		HTTPClient: func() (*http.Client, error) {
			// One client per command run, not a package-level one. The
			// default transport honours HTTPS_PROXY; the timeout bounds
			// a whole request, and Go drops the Authorization header on
			// a redirect to another host.
			c := &http.Client{Timeout: 30 * time.Second}
			if globals.Debug {
				c.Transport = &cmdutil.DebugTransport{
					Log: cmdutil.NewLogger(ios.ErrOut, ios.IsStderrTTY(), true),
				}
			}
			return c, nil
		},
	}
	return f
}
