package shared

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/oidc/ambient"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// SessionOptions are where Session looks for a session.
type SessionOptions struct {
	HTTPClient *http.Client
	Cache      *tokencache.Cache
	LookupEnv  func(string) (string, bool)
	Ambient    ambient.Env // nil: the process environment
}

// Session returns the login session of reg the way every command that
// calls the registry's APIs finds it: from the token cache while it has
// $CHAINCTL_TOKEN_MIN_LIFE left, else exchanged from ambient CI
// credentials. Not being logged in is an AuthError (exit 4) whose hint
// names the `chainctl auth login` to run.
func Session(ctx context.Context, reg session.Registry, o SessionOptions) (tokencache.Entry, error) {
	minLife, err := credhelper.MinLife(func(k string) string {
		if o.LookupEnv == nil {
			return ""
		}
		v, _ := o.LookupEnv(k)
		return v
	})
	if err != nil {
		return tokencache.Entry{}, cmdutil.FlagErrorf("%v", err)
	}
	sopts := []session.Option{session.WithHTTPClient(o.HTTPClient), session.WithCache(o.Cache), session.WithMinLife(minLife)}
	if o.Ambient != nil {
		sopts = append(sopts, session.WithAmbientEnv(o.Ambient))
	}
	e, err := session.Resolve(ctx, reg.URL, sopts...)
	var netErr *net.OpError
	switch {
	case errors.Is(err, session.ErrLoginRequired):
		return tokencache.Entry{}, &cmdutil.AuthError{Err: &cmdutil.HintError{
			Err:  fmt.Errorf("not logged in to %s", reg.Host),
			Hint: LoginHint(reg),
		}}
	case errors.As(err, &netErr):
		return tokencache.Entry{}, &cmdutil.HintError{Err: err, Hint: UnreachableHint(reg)}
	}
	return e, err
}

// UnreachableHint is the hint for a registry that does not answer.
func UnreachableHint(reg session.Registry) string {
	return "cannot reach " + reg.URL + "; check the address (--registry, $" + EnvRegistry +
		" or `chainctl config get registry`) and that the registry is running"
}

// LoginHint is the command that logs in to reg.
func LoginHint(reg session.Registry) string {
	return "run `chainctl auth login --registry " + reg.Host + "`"
}
