// Package configcmd is the `chainctl config` command group: get and set
// the settings of the user configuration file.
package configcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
)

// ConfigOptions are the inputs of `chainctl config get` and `set`.
type ConfigOptions struct {
	IO *iostreams.IOStreams
	// Path returns the user configuration file's path.
	Path   func() (string, error)
	Output cmdutil.OutputFormat

	Key   string
	Value string
}

// NewCmdConfig returns `chainctl config` with get and set.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Read and change your chainctl settings",
		Long: cmdutil.Heredoc(`
			Read and change the settings of your chainctl configuration file,
			config.yaml in the chainctl directory of your user configuration directory
			(~/.config/chainctl on Linux). Keys:

			  registry   the default registry of "chainctl auth" commands (HOST[:PORT] or URL)
		`),
		Example: cmdutil.Examples(`
			$ chainctl config set registry registry.example.com
			$ chainctl config get registry
		`),
	}
	cmd.AddCommand(NewCmdGet(f, nil))
	cmd.AddCommand(NewCmdSet(f, nil))
	return cmd
}

func validKey(k string) error {
	if !slices.Contains(config.UserKeys, k) {
		return cmdutil.FlagErrorf("unknown key %q; keys: %s", k, strings.Join(config.UserKeys, ", "))
	}
	return nil
}

// NewCmdGet returns `chainctl config get`. runF replaces getRun in tests.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *ConfigOptions) error) *cobra.Command {
	opts := &ConfigOptions{IO: f.IOStreams, Path: config.UserConfigPath}
	return cmdutil.SupportJSON(&cobra.Command{
		Use:   "get KEY",
		Short: "Print a setting",
		Long: cmdutil.Heredoc(`
			Print the value of a setting of your configuration file; an unset setting
			prints an empty line.
		`),
		Example:   cmdutil.Examples(`$ chainctl config get registry`),
		Args:      cobra.ExactArgs(1),
		ValidArgs: config.UserKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key = args[0]
			if err := validKey(opts.Key); err != nil {
				return err
			}
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return getRun(cmd.Context(), opts)
		},
	})
}

func getRun(_ context.Context, opts *ConfigOptions) error {
	path, err := opts.Path()
	if err != nil {
		return err
	}
	u, err := config.LoadUser(path)
	if err != nil {
		return err
	}
	var v string
	switch opts.Key {
	case config.UserKeyRegistry:
		v = u.Registry
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, map[string]string{opts.Key: v})
	}
	_, err = fmt.Fprintln(opts.IO.Out, v)
	return err
}

// NewCmdSet returns `chainctl config set`. runF replaces setRun in tests.
func NewCmdSet(f *cmdutil.Factory, runF func(context.Context, *ConfigOptions) error) *cobra.Command {
	opts := &ConfigOptions{IO: f.IOStreams, Path: config.UserConfigPath}
	return cmdutil.SupportJSON(&cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a setting",
		Long: cmdutil.Heredoc(`
			Change a setting of your configuration file. The file is replaced atomically
			and is readable only by you (mode 0600). An empty VALUE unsets the key.
		`),
		Example:   cmdutil.Examples(`$ chainctl config set registry registry.example.com`),
		Args:      cobra.ExactArgs(2),
		ValidArgs: config.UserKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key, opts.Value = args[0], strings.TrimSpace(args[1])
			if err := validKey(opts.Key); err != nil {
				return err
			}
			if opts.Key == config.UserKeyRegistry && opts.Value != "" {
				if _, err := session.ParseRegistry(opts.Value); err != nil {
					return cmdutil.FlagErrorf("%v", err)
				}
			}
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return setRun(cmd.Context(), opts)
		},
	})
}

func setRun(_ context.Context, opts *ConfigOptions) error {
	path, err := opts.Path()
	if err != nil {
		return err
	}
	u, err := config.LoadUser(path)
	if err != nil {
		return err
	}
	switch opts.Key {
	case config.UserKeyRegistry:
		u.Registry = opts.Value
	}
	if err := config.SaveUser(path, u); err != nil {
		return err
	}
	if opts.Output == cmdutil.OutputJSON {
		// What get prints afterwards.
		return cmdutil.WriteJSON(opts.IO.Out, map[string]string{opts.Key: opts.Value})
	}
	if opts.IO.IsStdoutTTY() {
		st := opts.IO.OutStyles()
		_, err := fmt.Fprintf(opts.IO.Out, "%s Set %s to %q in %s\n", st.Success("✓"), opts.Key, opts.Value, path)
		return err
	}
	return nil
}
