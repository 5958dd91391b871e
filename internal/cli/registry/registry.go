// Package registry is the `chainctl registry` command group.
package registry

import (
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/fsck"
	"github.com/chainctl/chainctl/internal/cli/registry/gc"
	"github.com/chainctl/chainctl/internal/cli/registry/history"
	"github.com/chainctl/chainctl/internal/cli/registry/keys"
	"github.com/chainctl/chainctl/internal/cli/registry/serve"
)

// NewCmdRegistry returns `chainctl registry` and its subcommands.
func NewCmdRegistry(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry <command>",
		Short: "Run an OCI container registry",
		Long: cmdutil.Heredoc(`
			Run chainctl's OCI Distribution v1.1 container registry.

			"chainctl registry serve" starts it. With no configuration it listens on
			127.0.0.1:5000 and keeps blobs and metadata in your user data directory,
			so any OCI client (docker, crane, oras, podman) can push to it at once.
		`),
		Example: cmdutil.Examples(`
			$ chainctl registry serve
			$ chainctl registry serve --listen :5000 --data-dir /var/lib/chainctl
			$ chainctl registry gc --dry-run
			$ chainctl registry history acme/app:latest
		`),
	}
	cmd.AddCommand(serve.NewCmdServe(f, nil), keys.NewCmdKeys(f), gc.NewCmdGC(f, nil), fsck.NewCmdFsck(f, nil), history.NewCmdHistory(f, nil))
	return cmd
}
