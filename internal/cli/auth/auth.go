// Package auth is the `chainctl auth` command group.
package auth

import (
	"github.com/chainctl/chainctl/internal/cli/auth/configuredocker"
	"github.com/chainctl/chainctl/internal/cli/auth/credentialhelper"
	"github.com/spf13/cobra"

	logincmd "github.com/chainctl/chainctl/internal/cli/auth/login"
	logoutcmd "github.com/chainctl/chainctl/internal/cli/auth/logout"
	pulltokencmd "github.com/chainctl/chainctl/internal/cli/auth/pulltoken"
	statuscmd "github.com/chainctl/chainctl/internal/cli/auth/status"
	tokencmd "github.com/chainctl/chainctl/internal/cli/auth/token"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

// NewCmdAuth returns `chainctl auth` with its subcommands.
func NewCmdAuth(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth <command>",
		Short: "Log in to registries and manage sessions",
		Long: cmdutil.Heredoc(`
			Log in to a chainctl registry without a password and manage the short-lived
			session tokens chainctl caches for it.

			A session lasts about an hour. Tokens are cached per registry under your user
			cache directory (directory 0700, files 0600) and are never printed except by
			"chainctl auth token". In CI, ambient credentials (GitHub Actions, GitLab CI,
			Buildkite, CircleCI, a Kubernetes projected token, $CHAINCTL_IDENTITY_TOKEN)
			are used without logging in.

			The registry is --registry, else $CHAINCTL_REGISTRY, else the default set with
			"chainctl config set registry HOST".

			Where nobody can log in (imagePullSecrets, air-gapped build farms, scanners),
			"chainctl auth pull-token" makes long-lived, pull-only, revocable passwords.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth login --registry registry.example.com
			$ chainctl auth status
			$ chainctl auth logout
			$ chainctl auth pull-token create --repository 'acme/*'
		`),
	}
	cmd.AddCommand(logincmd.NewCmdLogin(f, nil))
	cmd.AddCommand(logoutcmd.NewCmdLogout(f, nil))
	cmd.AddCommand(statuscmd.NewCmdStatus(f, nil))
	cmd.AddCommand(tokencmd.NewCmdToken(f, nil))
	cmd.AddCommand(credentialhelper.NewCmdCredentialHelper(f, nil))
	cmd.AddCommand(configuredocker.NewCmdConfigureDocker(f, nil))
	cmd.AddCommand(pulltokencmd.NewCmdPullToken(f))
	return cmd
}
