// Package version is the `chainctl version` command.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	buildinfo "github.com/chainctl/chainctl/internal/version"
)

// VersionOptions are the inputs of `chainctl version`.
type VersionOptions struct {
	IO     *iostreams.IOStreams
	Output cmdutil.OutputFormat
	Info   buildinfo.Info
}

// NewCmdVersion returns `chainctl version`. runF replaces versionRun in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show chainctl's version",
		Long: cmdutil.Heredoc(`
			Show the version of this chainctl binary, the commit it was built from and
			the Go toolchain that built it.

			Include this output in bug reports. With "--output json" it prints
			{"version", "commit", "go_version"} for scripts; "commit" is empty when the
			build did not record it.
		`),
		Example: cmdutil.Examples(`
			$ chainctl version
			$ chainctl version -o json | jq -r .version
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Output = f.Globals.Output
			opts.Info = buildinfo.Get()
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
	return cmdutil.SupportJSON(cmd)
}

// JSON is the -o json output; its shape is fixed, every field always
// present.
type JSON struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

func versionRun(opts *VersionOptions) error {
	info := opts.Info
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, JSON{
			Version: info.Version, Commit: info.Commit, GoVersion: info.GoVersion,
		})
	}
	commit := info.Commit
	switch {
	case commit == "":
		commit = "unknown"
	case info.Modified:
		commit += " (modified)"
	}
	st := opts.IO.OutStyles()
	rows := [][2]string{{"version", info.Version}, {"commit", commit}, {"go", info.GoVersion}}
	for _, r := range rows {
		// Pad before styling: escape sequences would throw the width off.
		if _, err := fmt.Fprintf(opts.IO.Out, "%s %s\n", st.Bold(fmt.Sprintf("%-8s", r[0])), r[1]); err != nil {
			return err
		}
	}
	return nil
}
