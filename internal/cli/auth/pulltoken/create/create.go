// Package create is the `chainctl auth pull-token create` command.
package create

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/auth/configuredocker"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/session"
)

// Format is the value of create's own --output: the global formats, and
// two that hand the password to another program.
type Format string

// The formats.
const (
	FormatTable        Format = "table"
	FormatJSON         Format = "json"
	FormatEnv          Format = "env"
	FormatDockerConfig Format = "dockerconfigjson"
)

// formats lists the accepted formats, for help and completion.
var formats = []string{string(FormatTable), string(FormatJSON), string(FormatEnv), string(FormatDockerConfig)}

// String implements pflag.Value.
func (f *Format) String() string { return string(*f) }

// Type implements pflag.Value.
func (f *Format) Type() string { return "format" }

// Set implements pflag.Value.
func (f *Format) Set(s string) error {
	switch v := Format(strings.ToLower(s)); v {
	case FormatTable, FormatJSON, FormatEnv, FormatDockerConfig:
		*f = v
		return nil
	}
	return fmt.Errorf("must be one of %s", strings.Join(formats, ", "))
}

// CreateOptions are the inputs of `chainctl auth pull-token create`.
type CreateOptions struct {
	api.Remote

	// Request is the token to create, from the flags.
	Request shared.CreateRequest
	// Format is --output: create has formats of its own.
	Format Format
	// Save stores the token in the credential helper for the registry;
	// Docker says where and how.
	Save   bool
	Docker *configuredocker.ConfigureDockerOptions
}

// NewCmdCreate returns `chainctl auth pull-token create`. runF replaces
// createRun in tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{Format: FormatTable}
	var token shared.Flags
	cmd := &cobra.Command{
		Use:   "create --repository PATTERN [--repository PATTERN...] [flags]",
		Short: "Create a pull token: a long-lived, pull-only password",
		Long: cmdutil.Heredoc(`
			Create a pull token for the --repository patterns and print it: a username
			(the token's id, pt-...) and a password (ccpt_...) that any docker-compatible
			client can pull with, where no OIDC token is at hand: a Kubernetes cluster's
			imagePullSecrets, an air-gapped build farm, a vulnerability scanner, a
			developer's laptop that only pulls.

			The password is shown only this once: the registry keeps a hash of it. Store
			it where it is used (a Kubernetes secret, a secret manager, a .env file kept
			private) before the output scrolls away; a lost password cannot be recovered,
			only replaced by a new token.

			A pull token can only pull, and only from the repositories its patterns
			cover: team/app (that repository), team/* (everything under team/) or *
			(everything). Creating one needs the owner role on every pattern. It lasts
			--ttl (default 720h, 30 days; the registry refuses more than its maximum,
			auth.pull_tokens.max_ttl, 8760h unless configured), and "chainctl auth
			pull-token revoke ID" ends it at once.

			Output (-o):
			  table             the username, password, expiry and repositories, and the
			                    docker login command to run (the default)
			  json              the token as the registry returned it, plus "registry"
			  env               shell-quoted CHAINCTL_PULL_TOKEN_REGISTRY, _USERNAME,
			                    _PASSWORD and _EXPIRES lines, for eval or a .env file
			  dockerconfigjson  a .dockerconfigjson document for a Kubernetes secret of
			                    type kubernetes.io/dockerconfigjson

			--save also stores the token in chainctl's credential helper for the registry,
			as "docker login" through docker-credential-chainctl would, and configures
			docker to ask chainctl (as "chainctl auth configure-docker" does): docker,
			crane, oras and skopeo on this machine then pull with it, while chainctl's own
			commands keep using your login session. "docker logout HOST" goes back to the
			session.

			The registry and the session are those of "chainctl auth login" unless
			--registry, $CHAINCTL_REGISTRY, --token-file or $CHAINCTL_TOKEN say otherwise.
			The password is written only to standard output: never to standard error,
			the --debug log or an error message.
		`),
		Example: cmdutil.Examples(`
			# A token for everything under acme/, then log in with it
			$ chainctl auth pull-token create --repository 'acme/*' --name laptop
			$ docker login registry.example.com -u pt-... --password-stdin

			# An imagePullSecret for a cluster, valid 90 days
			$ chainctl auth pull-token create --repository 'acme/*' --ttl 90d --name prod-cluster \
			    -o dockerconfigjson > dockerconfig.json
			$ kubectl create secret generic regcred --type=kubernetes.io/dockerconfigjson \
			    --from-file=.dockerconfigjson=dockerconfig.json
			$ rm dockerconfig.json

			# A build farm's .env file
			$ chainctl auth pull-token create --repository team/base --repository 'team/tools/*' \
			    --name farm -o env > pull-token.env

			# Pull with it from this machine: docker, crane, oras and skopeo
			$ chainctl auth pull-token create --repository 'acme/*' --save
		`),
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	token.AddFlags(fl)
	// Shadows the global --output, whose formats are table and json only.
	fl.VarP(&opts.Format, "output", "o", "output format: "+strings.Join(formats, ", "))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
	fl.BoolVar(&opts.Save, "save", false, "also store the token in chainctl's credential helper, so that docker pulls from the registry with it")
	return api.Command(f, cmd, opts, func([]string) error {
		req, err := token.Request("")
		if err != nil {
			return err
		}
		opts.Request = req
		if opts.Save {
			dir, err := configuredocker.DockerConfigDir(f.LookupEnv)
			if err != nil {
				return err
			}
			opts.Docker = &configuredocker.ConfigureDockerOptions{IO: f.IOStreams, ConfigDir: dir,
				Executable: os.Executable, Symlink: os.Symlink, OpenCache: f.TokenCache}
		}
		return nil
	}, runF, createRun)
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	if opts.Save {
		// Fail before the token exists, not after.
		if opts.Docker == nil || opts.Docker.OpenCache == nil {
			return fmt.Errorf("--save: no token cache")
		}
		if _, err := opts.Docker.OpenCache(); err != nil {
			return err
		}
	}
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	reg, err := session.ParseRegistry(opts.Registry)
	if err != nil {
		return err
	}
	t, err := shared.CreatePullToken(ctx, client, opts.Request)
	if err != nil {
		return shared.MapError(err, "")
	}
	// The password first: whatever happens next, it is not lost.
	if err := write(opts, reg.Host, t); err != nil {
		return err
	}
	if !opts.Save {
		return nil
	}
	d := *opts.Docker
	d.Registry = reg.URL
	// stdout carries the token; what --save configured goes to stderr.
	if _, err := configuredocker.SavePullToken(ctx, &d, t, opts.IO.ErrOut); err != nil {
		return err
	}
	return nil
}

// write prints t in opts.Format for the registry host.
func write(opts *CreateOptions, host string, t *shared.PullToken) error {
	w := opts.IO.Out
	switch opts.Format {
	case FormatJSON:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(t.Raw, &obj); err != nil {
			return fmt.Errorf("decode pull token: %w", err)
		}
		obj["registry"], _ = json.Marshal(host)
		return cmdutil.WriteJSON(w, obj)
	case FormatEnv:
		for _, kv := range [][2]string{
			{"REGISTRY", host}, {"USERNAME", t.ID}, {"PASSWORD", string(t.Secret)}, {"EXPIRES", t.Expires},
		} {
			if _, err := fmt.Fprintf(w, "CHAINCTL_PULL_TOKEN_%s=%s\n", kv[0], shellQuote(kv[1])); err != nil {
				return err
			}
		}
		return nil
	case FormatDockerConfig:
		type auth struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Auth     string `json:"auth"`
		}
		return cmdutil.WriteJSON(w, struct {
			Auths map[string]auth `json:"auths"`
		}{map[string]auth{host: {
			Username: t.ID,
			Password: string(t.Secret),
			Auth:     base64.StdEncoding.EncodeToString([]byte(t.ID + ":" + string(t.Secret))),
		}}})
	}
	return writeTable(opts, host, t)
}

// writeTable prints the token for people: its fields, then what to do.
func writeTable(opts *CreateOptions, host string, t *shared.PullToken) error {
	st := opts.IO.OutStyles()
	expires := t.Expires
	if expires == "" {
		expires = "never"
	}
	rows := [][2]string{
		{"registry", host},
		{"username", t.ID},
		{"password", string(t.Secret)},
		{"expires", expires},
		{"repositories", strings.Join(t.Repositories, ", ")},
	}
	if t.Name != "" {
		rows = append(rows, [2]string{"name", t.Name})
	}
	var b strings.Builder
	for _, r := range rows {
		// Pad before styling: escape sequences would throw the width off.
		fmt.Fprintf(&b, "%s  %s\n", st.Bold(fmt.Sprintf("%-12s", r[0])), r[1])
	}
	b.WriteString("\n")
	if !opts.Save {
		fmt.Fprintf(&b, "Log in with the password above:\n  %s\n", st.Code("docker login "+host+" -u "+t.ID+" --password-stdin"))
	}
	fmt.Fprintf(&b, "%s The password is shown only this once: store it now. Revoke the token with %s\n",
		st.Warning("!"), st.Code("chainctl auth pull-token revoke "+t.ID))
	_, err := fmt.Fprint(opts.IO.Out, b.String())
	return err
}

// shellQuote quotes s for a POSIX shell and for .env files: in single
// quotes, with each single quote inside closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
