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
	f := &cmdutil.Factory{
		IOStreams: ios,
		Globals:   &cmdutil.Globals{Output: cmdutil.OutputTable},
		LookupEnv: os.LookupEnv,
		HTTPClient: func() (*http.Client, error) {
			// One client per command run, not a package-level one. The
			// default transport honours HTTPS_PROXY; the timeout bounds
			// a whole request, and Go drops the Authorization header on
			// a redirect to another host.
			return &http.Client{Timeout: 30 * time.Second}, nil
		},
	}
	return f
}
