package cmdutil

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/config"
)

// LoadServeConfig reads the registry server's settings — the flags in fs
// (defined with config.AddServeFlags), CHAINCTL_* variables through the
// Factory and the --config file — for every command that works on a
// registry's data. An invalid configuration comes back with a hint, every
// problem of it at once; warnings about a valid one (a key spelt the
// deprecated way) go to stderr.
func LoadServeConfig(f *Factory, fs *pflag.FlagSet) (*config.Serve, error) {
	var opts []config.Option
	if f.LookupEnv != nil {
		opts = append(opts, config.WithLookupEnv(f.LookupEnv))
	}
	cfg, err := config.LoadServe(fs, opts...)
	if err != nil {
		return nil, &HintError{Err: fmt.Errorf("invalid configuration: %w", err),
			Hint: "see `chainctl registry serve --help` and docs/configuration.md"}
	}
	if f.IOStreams != nil {
		st := f.IOStreams.ErrStyles()
		for _, w := range cfg.Warnings {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s %s\n", st.Warning("warning:"), w)
		}
	}
	return cfg, nil
}
