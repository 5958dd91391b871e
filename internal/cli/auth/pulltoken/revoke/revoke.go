// Package revoke is the `chainctl auth pull-token revoke` command.
package revoke

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/pulltoken"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// RevokeOptions are the inputs of `chainctl auth pull-token revoke`.
type RevokeOptions struct {
	api.Remote

	// IDs are the tokens to revoke, checked and without duplicates.
	IDs []string
	// TokenCache opens the token cache (Factory.TokenCache), to tell
	// whether docker on this machine uses a token just revoked; nil
	// skips that.
	TokenCache func() (*tokencache.Cache, error)
}

// NewCmdRevoke returns `chainctl auth pull-token revoke`. runF replaces
// revokeRun in tests.
func NewCmdRevoke(f *cmdutil.Factory, runF func(context.Context, *RevokeOptions) error) *cobra.Command {
	opts := &RevokeOptions{TokenCache: f.TokenCache}
	cmd := &cobra.Command{
		Use:     "revoke ID...",
		Aliases: []string{"delete", "rm"},
		Short:   "Revoke pull tokens: they stop working at once",
		Long: cmdutil.Heredoc(`
			Revoke each pull token ID (pt-..., the username it logs in with): the registry
			refuses it from then on, on every replica, and it is no longer listed. Revoking
			cannot be undone; create a new token to give access again. Revoke a token when
			the machine or cluster that used it is gone, or when its password may have
			leaked. When docker on this machine pulls with a token you revoke (it was
			saved with --save), the command says so: "docker logout HOST" stops that.

			Every ID is tried, even when one fails; the command then exits non-zero, with
			status 4 when the registry refused the session for all of them. Revoking needs
			the owner role on every repository pattern of the token. The registry and the
			session are those of "chainctl auth login" unless --registry,
			$CHAINCTL_REGISTRY, --token-file or $CHAINCTL_TOKEN say otherwise.

			"-o json" prints [{"id", "revoked", "error"}] for the IDs, in order.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth pull-token revoke pt-4xq2m7k3b5vyd6hjw2ra
			# Revoke every expired token
			$ chainctl auth pull-token list --expired -o json | jq -r '.[] | select(.expired) | .id' \
			    | xargs chainctl auth pull-token revoke
		`),
		Args: cobra.MinimumNArgs(1),
	}
	return api.Command(f, cmd, opts, func(args []string) error {
		ids, err := ParseIDs(args)
		if err != nil {
			return err
		}
		opts.IDs = ids
		return nil
	}, runF, revokeRun)
}

// ParseIDs checks that every argument has the form of a pull token id and
// drops repeats, before anything is revoked (cmdutil.ParseIDs).
func ParseIDs(args []string) ([]string, error) {
	return cmdutil.ParseIDs(args, pulltoken.ValidID, "pull token id",
		"an id is pt- and 20 characters a-z and 2-7, as `chainctl auth pull-token list` shows")
}

// JSONField says, in each -o json result, whether its token was revoked.
const JSONField = "revoked"

func revokeRun(ctx context.Context, opts *RevokeOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	each := cmdutil.EachID{IO: opts.IO, JSON: opts.Output == cmdutil.OutputJSON,
		Field: JSONField, Done: "Revoked", Failed: "pull tokens not revoked"}
	results, err := each.Run(opts.IDs, func(id string) error {
		if err := shared.RevokePullToken(ctx, client, id); err != nil {
			return shared.MapError(err, id)
		}
		return nil
	})
	warnIfSaved(opts, results)
	return err
}

// warnIfSaved tells, on stderr, that docker on this machine still sends a
// token just revoked, which the registry now refuses, and how to stop it.
// It is best effort: a cache that cannot be read says nothing.
func warnIfSaved(opts *RevokeOptions, results []cmdutil.Result) {
	if opts.TokenCache == nil {
		return
	}
	reg, err := session.ParseRegistry(opts.Registry)
	if err != nil {
		return
	}
	cache, err := opts.TokenCache()
	if err != nil {
		return
	}
	e, err := cache.Stored().Get(reg.Host)
	if err != nil {
		return
	}
	for _, r := range results {
		if r.OK && r.ID == e.Username {
			st := opts.IO.ErrStyles()
			fmt.Fprintf(opts.IO.ErrOut, "%s docker on this machine pulls from %s with %s, which is now refused: run %s\n",
				st.Warning("!"), reg.Host, r.ID, st.Code("docker logout "+reg.Host))
			return
		}
	}
}
