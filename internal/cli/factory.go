package cli

import (
	"os"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// NewFactory returns the Factory for a real run on ios.
func NewFactory(ios *iostreams.IOStreams) *cmdutil.Factory {
	f := &cmdutil.Factory{
		IOStreams: ios,
		Globals:   &cmdutil.Globals{Output: cmdutil.OutputTable},
		LookupEnv: os.LookupEnv,
	}
	return f
}
