// Package token is the `chainctl auth token` command.
package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// TokenOptions are the inputs of `chainctl auth token`.
type TokenOptions struct {
	IO         *iostreams.IOStreams
	HTTPClient func() (*http.Client, error)
	// Registry resolves RegistryFlag (Factory.Registry).
	Registry func(flag string) (session.Registry, error)
	// Session finds the login session (Factory.Session).
	Session func(ctx context.Context, reg session.Registry) (tokencache.Entry, error)

	RegistryFlag string
	Scopes       []string
}

// NewCmdToken returns `chainctl auth token`. runF replaces tokenRun in tests.
func NewCmdToken(f *cmdutil.Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IOStreams, HTTPClient: f.HTTPClient, Registry: f.Registry, Session: f.Session}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a session or access token, for scripts",
		Long: cmdutil.Heredoc(`
			Print the session token of a registry on standard output, and nothing else.
			The session comes from the cache when it has at least five minutes left
			($CHAINCTL_TOKEN_MIN_LIFE changes that), else from ambient CI credentials;
			otherwise the command fails with exit status 4 and asks you to log in.

			With --scope it prints instead an access token for those scopes from the
			registry's token endpoint, usable as "Authorization: Bearer" on /v2/ routes.
			A scope is repository:NAME:ACTIONS with ACTIONS a comma-separated list of pull,
			push and delete. Repeat --scope for several.

			The token is a secret: do not paste it into logs or tickets.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth token --registry registry.example.com
			$ curl -H "Authorization: Bearer $(chainctl auth token --scope repository:acme/app:pull)" \
			    https://registry.example.com/v2/acme/app/tags/list
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range opts.Scopes {
				if err := checkScope(s); err != nil {
					return cmdutil.FlagErrorf("invalid --scope %q: %v", s, err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRun(cmd.Context(), opts)
		},
	}
	shared.AddRegistryFlag(cmd.Flags(), &opts.RegistryFlag)
	cmd.Flags().StringArrayVar(&opts.Scopes, "scope", nil, "print an access token for `SCOPE` (repository:NAME:pull,push) instead of the session token")
	return cmd
}

// knownActions are the actions a scope may name; the registry would
// silently drop any other, so a typo would only show as a refusal later.
var knownActions = []string{policy.ActionPull, policy.ActionPush, policy.ActionDelete, policy.ActionAll}

// checkScope parses s as the registry does and refuses unknown actions.
func checkScope(s string) error {
	a, err := policy.ParseScope(s)
	if err != nil {
		if parts := strings.Split(s, ":"); len(parts) < 3 {
			return errors.New("want TYPE:NAME:ACTIONS, such as repository:acme/app:pull,push")
		}
		// Say what is wrong without repeating the scope.
		return errors.New(strings.TrimPrefix(err.Error(), fmt.Sprintf("%s %q: ", policy.ErrInvalidScope, s)))
	}
	if len(a.Actions) == 0 {
		return fmt.Errorf("no action; actions are %s", strings.Join(knownActions, ", "))
	}
	for _, act := range a.Actions {
		if !slices.Contains(knownActions, act) {
			return fmt.Errorf("unknown action %q; actions are %s", act, strings.Join(knownActions, ", "))
		}
	}
	return nil
}

func tokenRun(ctx context.Context, opts *TokenOptions) error {
	reg, err := opts.Registry(opts.RegistryFlag)
	if err != nil {
		return err
	}
	e, err := opts.Session(ctx, reg)
	if err != nil {
		return err
	}
	tok := e.Token
	if len(opts.Scopes) > 0 {
		hc, err := opts.HTTPClient()
		if err != nil {
			return err
		}
		tok, _, err = session.AccessToken(ctx, reg.URL, e, opts.Scopes, session.WithHTTPClient(hc))
		if errors.Is(err, session.ErrUnauthorized) {
			return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: err, Hint: shared.LoginHint(reg)}}
		}
		if err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}
