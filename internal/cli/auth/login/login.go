// Package login is the `chainctl auth login` command.
package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/oidc/ambient"
	oidclogin "github.com/chainctl/chainctl/internal/oidc/login"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// maxTokenInput caps an identity token read from a file or stdin.
const maxTokenInput = 64 << 10

// LoginOptions are the inputs of `chainctl auth login`.
type LoginOptions struct {
	IO         *iostreams.IOStreams
	HTTPClient func() (*http.Client, error)
	Cache      func() (*tokencache.Cache, error)
	// Registry resolves RegistryFlag (Factory.Registry).
	Registry func(flag string) (session.Registry, error)
	// OpenBrowser opens a URL; nil means none can be opened.
	OpenBrowser func(ctx context.Context, url string) error
	// Ambient is where ambient credentials are looked for (nil: the OS).
	Ambient ambient.Env
	Output  cmdutil.OutputFormat

	RegistryFlag  string
	Headless      bool
	Browser       bool   // the browser flow even without a terminal
	Dev           bool   // the development user of `registry serve --dev`
	IdentityToken string // TOKEN, @FILE or -
	Identity      string
}

// NewCmdLogin returns `chainctl auth login`. runF replaces loginRun in tests.
func NewCmdLogin(f *cmdutil.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{
		IO: f.IOStreams, HTTPClient: f.HTTPClient, Cache: f.TokenCache,
		Registry: f.Registry, OpenBrowser: f.OpenBrowser,
	}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a registry",
		Long: cmdutil.Heredoc(`
			Log in to a chainctl registry and cache a session token for it.

			The registry says which identity provider to use
			(/.well-known/chainctl-configuration). How the identity token is obtained:

			- By default, on a terminal: in your browser (authorization code with PKCE and
			  a loopback redirect). The URL is always printed too; if no browser opens, copy
			  it into one. --browser chooses this flow even without a terminal.
			  $CHAINCTL_BROWSER, when set, is the command that opens the URL (it gets the
			  URL as its last argument), instead of the desktop's default browser.
			- --headless: the device flow. A code and a URL are shown; approve the login on
			  any device, then the command finishes on its own.
			- --identity-token TOKEN, @FILE or - (stdin): a token you already have, for
			  scripts.
			- --dev: as the development user of a registry run with "chainctl registry
			  serve --dev" on this machine, in one step, with no browser and no code to
			  type. It is refused by any other registry: chainctl sends the request only to
			  a development identity provider on a loopback address.
			- Without a terminal and none of the above: ambient CI credentials (GitHub
			  Actions, GitLab CI, Buildkite, CircleCI, a Kubernetes projected token,
			  $CHAINCTL_IDENTITY_TOKEN, in that order). If there are none the command fails
			  rather than wait for a person who is not there.

			The identity token is exchanged for a registry session (about an hour), cached
			under your user cache directory. --identity chooses the registry identity when
			the token matches several. Tokens are never printed.
		`),
		Example: cmdutil.Examples(`
			# Log in in your browser
			$ chainctl auth login --registry registry.example.com

			# On a machine without a browser
			$ chainctl auth login --headless

			# The registry of "make run" (chainctl registry serve --dev), no browser at all
			$ chainctl auth login --dev --registry localhost:5000

			# In a script, with a token from elsewhere
			$ get-token | chainctl auth login --identity-token - --identity ci-deploy
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, set := range []bool{opts.Headless, opts.Browser, opts.IdentityToken != "", opts.Dev} {
				if set {
					n++
				}
			}
			if n > 1 {
				return cmdutil.FlagErrorf("only one of --headless, --browser, --identity-token and --dev can be used")
			}
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	shared.AddRegistryFlag(cmd.Flags(), &opts.RegistryFlag)
	cmd.Flags().BoolVar(&opts.Headless, "headless", false, "log in with a code on another device (device flow) instead of a local browser")
	cmd.Flags().BoolVar(&opts.Browser, "browser", false, "log in in a browser on this machine even without a terminal")
	cmd.Flags().StringVar(&opts.IdentityToken, "identity-token", "", "log in with this identity `TOKEN`, @FILE to read it from a file, or - for stdin")
	cmd.Flags().BoolVar(&opts.Dev, "dev", false, "log in as the development user of a `chainctl registry serve --dev` registry on this machine, without a browser")
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "the registry identity `ID` to act as, when the token matches several")
	return cmdutil.SupportJSON(cmd)
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	reg, err := opts.Registry(opts.RegistryFlag)
	if err != nil {
		return err
	}
	m, err := loginMethod(opts)
	if err != nil {
		return err
	}
	hc, err := opts.HTTPClient()
	if err != nil {
		return err
	}
	cache, err := opts.Cache()
	if err != nil {
		return err
	}
	sopts := []session.Option{
		session.WithHTTPClient(hc), session.WithCache(cache),
		session.WithLoginOptions(oidclogin.WithPrompter(prompter(opts.IO))),
	}
	if opts.OpenBrowser != nil {
		sopts = append(sopts, session.WithLoginOptions(oidclogin.WithBrowserOpener(func(u string) error {
			return opts.OpenBrowser(ctx, u)
		})))
	}
	if opts.Ambient != nil {
		sopts = append(sopts, session.WithAmbientEnv(opts.Ambient))
	}
	res, err := session.Login(ctx, reg.URL, m, sopts...)
	if err != nil {
		return mapError(err, reg, m.Kind)
	}
	return printResult(opts, res)
}

// loginMethod picks how the identity token is obtained: a given token,
// the device flow, the browser (asked for, or on a terminal), else ambient
// credentials.
func loginMethod(opts *LoginOptions) (session.Method, error) {
	m := session.Method{Identity: opts.Identity}
	switch {
	case opts.IdentityToken != "":
		tok, err := readToken(opts.IdentityToken, opts.IO.In)
		if err != nil {
			return m, err
		}
		m.Kind, m.IDToken = session.IDToken, tok
	case opts.Headless:
		m.Kind = session.Device
	case opts.Dev:
		m.Kind = session.DevUser
	case opts.Browser, opts.IO.CanPrompt():
		m.Kind = session.Browser
	default:
		m.Kind = session.Ambient
	}
	return m, nil
}

// readToken reads --identity-token: the token itself, @FILE, or - (stdin).
func readToken(v string, stdin io.Reader) (string, error) {
	var r io.Reader
	switch {
	case v == "-":
		r = stdin
	case strings.HasPrefix(v, "@"):
		f, err := os.Open(v[1:])
		if err != nil {
			return "", fmt.Errorf("read identity token: %w", err)
		}
		defer f.Close()
		r = f
	default:
		return strings.TrimSpace(v), nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxTokenInput+1))
	if err != nil {
		return "", fmt.Errorf("read identity token: %w", err)
	}
	if len(b) > maxTokenInput {
		return "", fmt.Errorf("read identity token: larger than %d bytes", maxTokenInput)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", cmdutil.FlagErrorf("the identity token is empty")
	}
	return tok, nil
}

// prompter shows the browser URL or the device code on stderr.
func prompter(ios *iostreams.IOStreams) oidclogin.Prompter {
	st := ios.ErrStyles()
	w := ios.ErrOut
	return oidclogin.PrompterFuncs{
		AuthURL: func(u string, openErr error) {
			if openErr == nil {
				fmt.Fprintf(w, "Opening your browser to log in. If it does not open, visit:\n\n  %s\n\n", u)
				return
			}
			fmt.Fprintf(w, "No browser could be opened. Open this URL in a browser on this machine:\n\n  %s\n\n", u)
			fmt.Fprintf(w, "%s on a machine without a browser, use %s instead\n", st.Faint("hint:"), st.Code("chainctl auth login --headless"))
		},
		Device: func(c oidclogin.DeviceCode) {
			text := fmt.Sprintf("To log in, visit\n  %s\nand enter the code\n  %s", c.VerificationURI, c.UserCode)
			if c.VerificationURIComplete != "" {
				text += fmt.Sprintf("\n\nor open\n  %s", c.VerificationURIComplete)
			}
			if st.Enabled() {
				box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1)
				fmt.Fprintln(w, box.Render(text))
			} else {
				fmt.Fprintln(w, text)
			}
			fmt.Fprintln(w, "Waiting for the login to be approved...")
		},
	}
}

// mapError turns login failures into the CLI's errors, with a hint that
// fits how the login was attempted.
func mapError(err error, reg session.Registry, kind session.MethodKind) error {
	var oe *oidclogin.OAuthError
	var netErr *net.OpError
	switch {
	case errors.Is(err, ambient.ErrNone):
		return &cmdutil.HintError{
			Err:  errors.New("no terminal to log in on and no ambient credentials found"),
			Hint: "run it in a terminal, or pass --headless or --identity-token",
		}
	case errors.Is(err, oidclogin.ErrIdentityRequired) && errors.As(err, &oe):
		return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: errors.New(oe.Description), Hint: "choose one with --identity ID"}}
	case errors.Is(err, oidclogin.ErrInvalidGrant) && kind != session.Browser && kind != session.Device && kind != session.DevUser:
		// A token given or found in the environment that no identity of
		// the registry accepts: the usual federation mistake.
		return &cmdutil.AuthError{Err: &cmdutil.HintError{
			Err: fmt.Errorf("log in to %s: the registry refused the identity token: %w", reg.Host, err),
			Hint: "no identity of the registry accepts this token's issuer, subject, audience or claims; " +
				"an owner can see why with `chainctl iam identities test`",
		}}
	case errors.Is(err, oidclogin.ErrInvalidGrant), errors.Is(err, oidclogin.ErrAccessDenied),
		errors.Is(err, oidclogin.ErrInvalidIDToken), errors.Is(err, oidclogin.ErrExpiredToken),
		errors.Is(err, oidclogin.ErrStateMismatch):
		return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: fmt.Errorf("log in to %s: %w", reg.Host, err), Hint: "try again; the login was not completed"}}
	case errors.Is(err, oidclogin.ErrNotDev):
		return &cmdutil.HintError{
			Err:  fmt.Errorf("log in to %s: %w", reg.Host, err),
			Hint: "--dev is only for a registry run with `chainctl registry serve --dev` (`make run`); log in without it",
		}
	case errors.Is(err, oidclogin.ErrNoProvider):
		return &cmdutil.HintError{
			Err:  fmt.Errorf("log in to %s: %w", reg.Host, err),
			Hint: "people cannot log in there in a browser; use --identity-token or CI credentials, or ask its operator to set auth.login",
		}
	case errors.As(err, &netErr):
		return &cmdutil.HintError{
			Err:  fmt.Errorf("log in to %s: %w", reg.Host, err),
			Hint: shared.UnreachableHint(reg),
		}
	}
	return err
}

// JSON is the -o json output.
type JSON struct {
	Registry string    `json:"registry"`
	Identity string    `json:"identity,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Provider string    `json:"ambient_provider,omitempty"`
	Expiry   time.Time `json:"expiry"`
}

func printResult(opts *LoginOptions, res *session.Result) error {
	e := res.Entry
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, JSON{
			Registry: res.Registry.Host, Identity: e.Identity, Subject: res.Subject,
			Provider: res.Provider, Expiry: e.Expiry.UTC(),
		})
	}
	st := opts.IO.OutStyles()
	who := res.Subject
	if who == "" {
		who = "(unknown subject)"
	}
	if res.Provider != "" {
		who += " via " + res.Provider
	}
	ident := e.Identity
	if ident == "" {
		ident = "(not named by the registry)"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "%s Logged in to %s as %s, identity %s, until %s\n",
		st.Success("✓"), st.Bold(res.Registry.Host), who, st.Bold(ident), e.Expiry.Local().Format(time.RFC1123))
	return err
}
