package configuredocker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/credhelper"
)

// SavePullToken saves t for opts.Registry in the credential helper's
// store, as `docker login HOST` through docker-credential-chainctl would
// (beside the host's login session, which chainctl keeps using), then
// makes docker ask chainctl for the host, as configure-docker does. What
// it configured goes to progress; what docker now uses for the host, and
// how to go back, to stderr. stored reports whether the token reached the
// store, even when configuring docker then failed.
func SavePullToken(ctx context.Context, opts *ConfigureDockerOptions, t *shared.PullToken, progress io.Writer) (stored bool, err error) {
	if opts.OpenCache == nil {
		return false, errors.New("save pull token: no token cache")
	}
	var expiry time.Time
	if t.Expires != "" {
		// An unreadable expiry is no expiry: the registry still refuses
		// the token once it has expired.
		expiry, _ = time.Parse(time.RFC3339, t.Expires)
	}
	saved, err := credhelper.NewCache(opts.OpenCache).Save(ctx, credhelper.Credentials{
		ServerURL: opts.Registry,
		Username:  t.ID,
		Secret:    string(t.Secret),
	}, expiry)
	if err != nil {
		return false, fmt.Errorf("save pull token %s for docker: %w", t.ID, err)
	}
	if err := configure(opts, progress); err != nil {
		if errors.Is(err, cmdutil.ErrSilent) {
			return true, err
		}
		return true, &cmdutil.HintError{Err: fmt.Errorf("pull token %s is saved, but docker is not configured to use it: %w", t.ID, err),
			Hint: "fix that, then run `chainctl auth configure-docker --registry " + saved.Host + "`"}
	}
	printSaved(opts, t, saved)
	return true, nil
}

// printSaved says on stderr that docker now pulls from the host with t,
// and, when that displaces a credential stored before or the login
// session, that pushes from docker will be refused and how to go back.
func printSaved(opts *ConfigureDockerOptions, t *shared.PullToken, saved credhelper.Saved) {
	w, st := opts.IO.ErrOut, opts.IO.ErrStyles()
	fmt.Fprintf(w, "%s Saved pull token %s for %s: docker, crane, oras and skopeo on this machine now pull with it\n",
		st.Success("✓"), st.Bold(t.ID), saved.Host)
	var instead []string
	if saved.Replaced != "" && saved.Replaced != t.ID {
		instead = append(instead, fmt.Sprintf("the credential stored before (user %s)", saved.Replaced))
	}
	if saved.Session {
		instead = append(instead, "your chainctl session (chainctl's own commands keep using it)")
	}
	if len(instead) == 0 {
		return
	}
	fmt.Fprintf(w, "%s docker now uses this pull-only token for %s instead of %s: pushes from docker to %s will be refused\n",
		st.Warning("!"), saved.Host, strings.Join(instead, " and "), saved.Host)
	fmt.Fprintf(w, "  To go back: %s\n", st.Code("docker logout "+saved.Host))
}

// pullTokenRun is configure-docker --pull-token: create a pull token and
// save it for docker. The password is never printed; if it cannot be
// saved, the token is revoked, since nobody could use it.
func pullTokenRun(ctx context.Context, opts *ConfigureDockerOptions) error {
	// Open the cache first: a token that cannot be saved is useless.
	if opts.OpenCache == nil {
		return errors.New("no token cache")
	}
	if _, err := opts.OpenCache(); err != nil {
		return err
	}
	client, err := opts.Remote.Connect(ctx)
	if err != nil {
		return err
	}
	t, err := shared.CreatePullToken(ctx, client, opts.Request)
	if err != nil {
		return shared.MapError(err, "")
	}
	out, st := opts.IO.Out, opts.IO.OutStyles()
	fmt.Fprintf(out, "%s Created pull token %s for %s", st.Success("✓"), st.Bold(t.ID), strings.Join(t.Repositories, ", "))
	if t.Expires != "" {
		fmt.Fprintf(out, ", expires %s", t.Expires)
	}
	fmt.Fprintln(out)
	stored, err := SavePullToken(ctx, opts, t, out)
	if err != nil && !stored {
		if rerr := shared.RevokePullToken(ctx, client, t.ID); rerr != nil {
			return &cmdutil.HintError{Err: err,
				Hint: fmt.Sprintf("pull token %s was created but could not be revoked (%v): run `chainctl auth pull-token revoke %s`",
					t.ID, shared.MapError(rerr, t.ID), t.ID)}
		}
		return &cmdutil.HintError{Err: err, Hint: fmt.Sprintf("pull token %s was revoked again, since it could not be saved", t.ID)}
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "Revoke it with: %s\n", st.Code("chainctl auth pull-token revoke "+t.ID))
	return err
}
