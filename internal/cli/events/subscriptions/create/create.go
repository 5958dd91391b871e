// Package create is the `chainctl events subscriptions create` command.
package create

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
)

// CreateOptions are the inputs of `chainctl events subscriptions create`.
type CreateOptions struct {
	api.Remote

	// Request is the subscription to create, from the argument and flags.
	Request shared.CreateRequest
}

// NewCmdCreate returns `chainctl events subscriptions create`. runF
// replaces createRun in tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{}
	var types, repos []string
	cmd := &cobra.Command{
		Use:   "create SINK --repository PATTERN [--repository PATTERN...] [--type push,pull] [flags]",
		Short: "Subscribe a URL to the pushes and pulls of repositories",
		Long: cmdutil.Heredoc(`
			Subscribe the URL SINK to the events of the repositories the --repository
			patterns cover: team/app (that repository), team/* (everything under team/)
			or * (everything). --type chooses pushes, pulls or both (the default); a
			failed push or pull is an event too, with an "error" in its data.

			The registry POSTs each event to SINK as a CloudEvent, signed with a token
			whose audience is SINK exactly as given here: the receiver checks it against
			its own URL, so give the URL the receiver knows itself by. Delivery is at least
			once: a sink that does not answer 2xx gets the event again, with backoff, for
			about a day; one that answers 410 Gone disables the subscription. See
			"chainctl events --help" for the event and how to verify one.

			SINK must be https. A plain-http sink is accepted only on a loopback address,
			from a registry run with --dev or events.allow_private_sinks: that is how
			"chainctl events listen" receives events on this machine.

			Creating a subscription needs the owner role on every repository pattern. The
			registry and the session are those of "chainctl auth login" unless
			--registry, $CHAINCTL_REGISTRY, --token-file or $CHAINCTL_TOKEN say
			otherwise.

			"-o json" prints the subscription as the registry returned it.
		`),
		Example: cmdutil.Examples(`
			# Pushes and pulls of everything under acme/, to a webhook
			$ chainctl events subscriptions create https://hooks.example.com/registry --repository 'acme/*'

			# Only pushes of two repositories, with a note for the next person
			$ chainctl events subscriptions create https://ci.example.com/hooks/deploy --type push \
			    --repository acme/app --repository acme/api --description "deploy on push"

			# To a listener on this machine (a registry in --dev)
			$ chainctl events listen --addr 127.0.0.1:8080 &
			$ chainctl events subscriptions create http://127.0.0.1:8080/ --repository 'acme/*'
		`),
		Args: cobra.ExactArgs(1),
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&types, "type", nil, "event `TYPE`s to deliver: push, pull, or push,pull (repeatable; default both)")
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"push", "pull", "push,pull"}, cobra.ShellCompDirectiveNoFileComp))
	fl.StringArrayVar(&repos, "repository", nil,
		"repository `PATTERN` whose events to deliver: team/app, team/* (everything under team/) or * (repeatable; at least one)")
	fl.StringVar(&opts.Request.Description, "description", "", "`TEXT` for people: what the sink does with the events")
	return api.Command(f, cmd, opts, func(args []string) error {
		sink, err := ParseSink(args[0])
		if err != nil {
			return err
		}
		t, err := shared.ParseTypes(types)
		if err != nil {
			return err
		}
		r, err := parseRepositories(repos)
		if err != nil {
			return err
		}
		opts.Request.Sink, opts.Request.Types, opts.Request.Repositories = sink, t, r
		opts.Request.Description = strings.TrimSpace(opts.Request.Description)
		return nil
	}, runF, createRun)
}

// ParseSink checks SINK as far as the client can: an absolute http(s) URL
// with a host, no user info and no fragment. The registry decides the rest
// (https, or loopback in --dev); s is kept exactly, since it is the
// audience of the tokens the sink will check.
func ParseSink(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", cmdutil.FlagErrorf("sink %q: want an absolute https:// URL, such as https://hooks.example.com/registry", s)
	case u.User != nil:
		return "", cmdutil.FlagErrorf("sink %q: no user info in the URL: the registry authenticates itself with a signed token", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", cmdutil.FlagErrorf("sink %q: no fragment in the URL", s)
	}
	return s, nil
}

// parseRepositories reads --repository: comma-separated or repeated
// patterns, at least one.
func parseRepositories(values []string) ([]string, error) {
	if len(values) == 0 {
		return nil, &cmdutil.HintError{Err: errors.New("a subscription needs at least one --repository"),
			Hint: "pass --repository PATTERN for the repositories whose events to deliver: team/app, team/* (everything under team/) or * (everything)"}
	}
	var out []string
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if err := policy.RepositoryPattern(p).Validate(); err != nil {
				return nil, cmdutil.FlagErrorf("--repository: %v", err)
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, cmdutil.FlagErrorf("--repository: empty pattern")
	}
	return out, nil
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	s, err := shared.CreateSubscription(ctx, client, opts.Request)
	if err != nil {
		return shared.MapError(err, "")
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, s.Raw)
	}
	return writeTable(opts, s)
}

// writeTable prints the subscription for people, then what to do next.
func writeTable(opts *CreateOptions, s *shared.Subscription) error {
	st := opts.IO.OutStyles()
	types := make([]string, len(s.Types))
	for i, t := range s.Types {
		types[i] = events.ShortType(t)
	}
	rows := [][2]string{
		{"id", s.ID},
		{"sink", s.Sink},
		{"types", strings.Join(types, ", ")},
		{"repositories", strings.Join(s.Repositories, ", ")},
	}
	if s.Description != "" {
		rows = append(rows, [2]string{"description", s.Description})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s Created subscription %s\n", st.Success("✓"), st.Bold(s.ID))
	for _, r := range rows {
		// Pad before styling: escape sequences would throw the width off.
		fmt.Fprintf(&b, "%s  %s\n", st.Bold(fmt.Sprintf("%-12s", r[0])), r[1])
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "The registry POSTs each event to the sink as a CloudEvent with a signed token (see %s).\n",
		st.Code("chainctl events --help"))
	fmt.Fprintf(&b, "Follow its deliveries with %s.\n", st.Code("chainctl events subscriptions list"))
	if addr, ok := listenAddr(s.Sink); ok {
		listen := "chainctl events listen --addr " + addr
		if s.Sink != "http://"+addr+"/" {
			listen += " --sink-url " + s.Sink
		}
		if opts.Registry != "" {
			listen += " --registry " + opts.Registry
		}
		fmt.Fprintf(&b, "Receive them on this machine with %s.\n", st.Code(listen))
	} else {
		fmt.Fprintf(&b, "To try events on this machine, %s is a sink that verifies and prints them.\n", st.Code("chainctl events listen"))
	}
	_, err := fmt.Fprint(opts.IO.Out, b.String())
	return err
}

// listenAddr is the --addr of a `chainctl events listen` that can be the
// sink: its host:port when the sink is plain http to a loopback address.
func listenAddr(sink string) (string, bool) {
	u, err := url.Parse(sink)
	if err != nil || u.Scheme != "http" {
		return "", false
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), true
}
