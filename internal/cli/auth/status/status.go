// Package status is the `chainctl auth status` command.
package status

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/pulltoken"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// StatusOptions are the inputs of `chainctl auth status`.
type StatusOptions struct {
	IO    *iostreams.IOStreams
	Cache func() (*tokencache.Cache, error)
	// Registry resolves RegistryFlag (Factory.Registry).
	Registry  func(flag string) (session.Registry, error)
	LookupEnv func(string) (string, bool)
	Now       func() time.Time
	Output    cmdutil.OutputFormat

	RegistryFlag string
	// All shows every registry with a cached session or stored
	// credential instead of one.
	All bool
}

// NewCmdStatus returns `chainctl auth status`. runF replaces statusRun in tests.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, LookupEnv: f.LookupEnv, Cache: f.TokenCache, Registry: f.Registry, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether you are logged in to a registry",
		Long: cmdutil.Heredoc(`
			Show the cached session of a registry: the identity it acts as and when it
			expires. It reads only the local cache and makes no network request. When a
			credential is stored for docker (by "docker login", or a pull token saved
			with "chainctl auth pull-token create --save"), it says that docker uses that
			instead of the session.

			When you are not logged in, or the session has expired, it says what to run
			("hint" with -o json).

			--all shows every registry with something in the cache, as one JSON array
			with -o json.

			Exit status: 0 when a session that has not expired is cached (with --all: for
			every registry shown, and there is at least one), 4 otherwise (as for every
			command that finds you not logged in; also with -o json, whose "logged_in"
			field says the same), 1 when the cache cannot be read.
		`),
		Example: cmdutil.Examples(`
			$ chainctl auth status --registry registry.example.com
			$ chainctl auth status --all
			$ chainctl auth status -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.All && opts.RegistryFlag != "" {
				return cmdutil.FlagErrorf("--all and --registry cannot be used together")
			}
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	shared.AddRegistryFlag(cmd.Flags(), &opts.RegistryFlag)
	cmd.Flags().BoolVar(&opts.All, "all", false, "show every registry with a cached session or stored credential")
	return cmdutil.SupportJSON(cmd)
}

// JSON is the -o json output, for one registry.
type JSON struct {
	Registry  string     `json:"registry"`
	LoggedIn  bool       `json:"logged_in"`
	Kind      string     `json:"kind,omitempty"`
	Identity  string     `json:"identity,omitempty"`
	Username  string     `json:"username,omitempty"`
	Expiry    *time.Time `json:"expiry,omitempty"`
	ExpiresIn int64      `json:"expires_in_seconds,omitempty"`
	// Docker is the credential stored for docker (by docker login, or
	// a pull token saved with --save), which the credential helper hands
	// docker instead of the session.
	Docker *StoredJSON `json:"docker_credential,omitempty"`
	// Hint is what to run when not logged in.
	Hint string `json:"hint,omitempty"`
}

// StoredJSON is a credential stored for docker, in JSON.
type StoredJSON struct {
	Username  string     `json:"username"`
	PullToken bool       `json:"pull_token"`
	Expiry    *time.Time `json:"expiry,omitempty"`
	Expired   bool       `json:"expired"`
}

func statusRun(_ context.Context, opts *StatusOptions) error {
	cache, err := opts.Cache()
	if err != nil {
		return err
	}
	var hosts []string
	if opts.All {
		if hosts, err = cachedHosts(cache); err != nil {
			return err
		}
	} else {
		reg, err := opts.Registry(opts.RegistryFlag)
		if err != nil {
			return err
		}
		hosts = []string{reg.Host}
	}
	now := opts.Now()
	all := make([]JSON, 0, len(hosts))
	ok := len(hosts) > 0
	for _, h := range hosts {
		out, found, err := hostStatus(cache, h, now)
		if err != nil {
			return err
		}
		ok = ok && out.LoggedIn
		all = append(all, out)
		if opts.Output == cmdutil.OutputJSON {
			continue
		}
		if len(all) > 1 {
			fmt.Fprintln(opts.IO.Out)
		}
		if err := printTable(opts, out, found, now); err != nil {
			return err
		}
	}
	switch {
	case opts.Output == cmdutil.OutputJSON && opts.All:
		err = cmdutil.WriteJSON(opts.IO.Out, all)
	case opts.Output == cmdutil.OutputJSON:
		err = cmdutil.WriteJSON(opts.IO.Out, all[0])
	case len(hosts) == 0:
		st := opts.IO.OutStyles()
		_, err = fmt.Fprintf(opts.IO.Out, "%s No cached sessions\n  To log in, run: %s\n", st.Error("X"), st.Code("chainctl auth login --registry HOST"))
	}
	if err != nil {
		return err
	}
	if !ok {
		// Not logged in: exit 4, as every other command that finds no
		// session does; what to do was printed above.
		return &cmdutil.AuthError{Err: cmdutil.ErrSilent}
	}
	return nil
}

// cachedHosts lists the registries with a session or a credential
// stored for docker, sorted.
func cachedHosts(cache *tokencache.Cache) ([]string, error) {
	sessions, err := cache.List()
	if err != nil {
		return nil, err
	}
	stored, err := cache.Stored().List()
	if err != nil {
		return nil, err
	}
	hosts := append(sessions, stored...)
	slices.Sort(hosts)
	return slices.Compact(hosts), nil
}

// hostStatus reads what the cache holds for host; found says whether it
// holds a session, usable or not.
func hostStatus(cache *tokencache.Cache, host string, now time.Time) (JSON, bool, error) {
	e, err := cache.Get(host)
	if err != nil && !errors.Is(err, tokencache.ErrNotFound) && !errors.Is(err, tokencache.ErrCorrupt) {
		return JSON{}, false, err
	}
	found := err == nil
	ok := found && e.UsableAt(now, 0)
	out := JSON{Registry: host, LoggedIn: ok}
	if found {
		out.Kind, out.Identity, out.Username = e.Kind, e.Identity, e.Username
		if !e.Expiry.IsZero() {
			exp := e.Expiry.UTC()
			out.Expiry = &exp
			if ok {
				out.ExpiresIn = int64(e.Expiry.Sub(now).Seconds())
			}
		}
	}
	if !ok {
		out.Hint = "chainctl auth login --registry " + host
	}
	se, err := cache.Stored().Get(host)
	switch {
	case err == nil:
		out.Docker = &StoredJSON{Username: se.Username, PullToken: pulltoken.ValidID(se.Username), Expired: !se.UsableAt(now, 0)}
		if !se.Expiry.IsZero() {
			exp := se.Expiry.UTC()
			out.Docker.Expiry = &exp
		}
	case !errors.Is(err, tokencache.ErrNotFound) && !errors.Is(err, tokencache.ErrCorrupt):
		return JSON{}, false, err
	}
	return out, found, nil
}

func printTable(opts *StatusOptions, s JSON, found bool, now time.Time) error {
	if err := printSession(opts, s, found, now); err != nil {
		return err
	}
	d := s.Docker
	if d == nil {
		return nil
	}
	st := opts.IO.OutStyles()
	what := "the credential stored by docker login (user " + d.Username + ")"
	if d.PullToken {
		what = "pull token " + d.Username + " (pull-only)"
	}
	fmt.Fprintf(opts.IO.Out, "  Docker:   uses %s", what)
	switch {
	case d.Expired && d.Expiry != nil:
		fmt.Fprintf(opts.IO.Out, ", %s at %s", st.Error("expired"), d.Expiry.Local().Format(time.RFC1123))
	case d.Expiry != nil:
		fmt.Fprintf(opts.IO.Out, ", which expires %s", d.Expiry.Local().Format(time.RFC1123))
	}
	fmt.Fprintln(opts.IO.Out)
	if s.LoggedIn {
		_, err := fmt.Fprintf(opts.IO.Out, "            instead of this session: %s goes back to it\n", st.Code("docker logout "+s.Registry))
		return err
	}
	return nil
}

// printSession prints what the session slot holds.
func printSession(opts *StatusOptions, s JSON, found bool, now time.Time) error {
	st := opts.IO.OutStyles()
	w := opts.IO.Out
	switch {
	case !found:
		_, err := fmt.Fprintf(w, "%s Not logged in to %s\n  To log in, run: %s\n", st.Error("X"), st.Bold(s.Registry), st.Code(s.Hint))
		return err
	case !s.LoggedIn:
		fmt.Fprintf(w, "%s Session for %s has expired", st.Error("X"), st.Bold(s.Registry))
		if s.Expiry != nil {
			fmt.Fprintf(w, " (at %s)", s.Expiry.Local().Format(time.RFC1123))
		}
		_, err := fmt.Fprintf(w, "\n  To log in again, run: %s\n", st.Code(s.Hint))
		return err
	}
	fmt.Fprintf(w, "%s Logged in to %s\n", st.Success("✓"), st.Bold(s.Registry))
	if s.Identity != "" {
		fmt.Fprintf(w, "  Identity: %s\n", s.Identity)
	}
	if s.Kind == tokencache.KindStored {
		fmt.Fprintf(w, "  Credential: stored by a docker/oras login")
		if s.Username != "" {
			fmt.Fprintf(w, " (user %s)", s.Username)
		}
		fmt.Fprintln(w)
	}
	if s.Expiry != nil {
		left := s.Expiry.Sub(now).Round(time.Second)
		fmt.Fprintf(w, "  Expires:  %s (in %s)\n", s.Expiry.Local().Format(time.RFC1123), left)
		if minLife, err := credhelper.MinLife(func(k string) string { v, _ := opts.LookupEnv(k); return v }); err == nil && left < minLife {
			fmt.Fprintf(w, "  %s less than %s left: the credential helper renews it first (from CI credentials), or asks you to run `chainctl auth login`\n",
				st.Warning("!"), minLife)
		}
	}
	return nil
}
