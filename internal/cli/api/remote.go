package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// EnvToken gives a session token instead of the login session.
const EnvToken = "CHAINCTL_TOKEN"

// maxTokenFile caps a token file: session tokens are a few hundred bytes.
const maxTokenFile = 64 << 10

// Remote is what every command on /api/v1 needs: its XOptions embed it,
// Command fills it in from the Factory and the --registry and
// --token-file flags, and xRun calls Connect. Tests set the exported
// fields directly.
type Remote struct {
	IO         *iostreams.IOStreams
	HTTPClient func() (*http.Client, error)
	Output     cmdutil.OutputFormat
	// Registry is the registry's URL, such as https://registry.example.com.
	Registry string
	// Token returns the session token; Connect calls it, so it is found
	// only when a request is about to be made.
	Token func(ctx context.Context) (string, error)

	registryFlag string
	tokenFile    string
}

// AddFlags registers --registry and --token-file on fs.
func (r *Remote) AddFlags(fs *pflag.FlagSet) {
	shared.AddRegistryFlag(fs, &r.registryFlag)
	fs.StringVar(&r.tokenFile, "token-file", "", "read the session token from `FILE` instead of the `chainctl auth login` session (default $"+EnvToken+")")
}

// Resolve sets Output from the global flags, Registry from f.Registry
// (--registry, $CHAINCTL_REGISTRY, then `chainctl config get registry`),
// and Token to read, when called, --token-file, else $CHAINCTL_TOKEN,
// else f.Session (the `chainctl auth login` session, or one exchanged
// from ambient CI credentials). A token that cannot be found is an
// *AuthError (exit 4) with a hint naming all three.
func (r *Remote) Resolve(f *cmdutil.Factory) error {
	reg, err := f.Registry(r.registryFlag)
	if err != nil {
		return err
	}
	r.Registry = reg.URL
	r.Output = f.Globals.Output
	file, lookupEnv, sess := r.tokenFile, f.LookupEnv, f.Session
	hint := "set --token-file or $" + EnvToken + ", or " + shared.LoginHint(reg)
	authErr := func(err error) error {
		return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: err, Hint: hint}}
	}
	r.Token = func(ctx context.Context) (string, error) {
		var tok string
		switch {
		case file != "":
			fh, err := os.Open(file)
			if err != nil {
				return "", authErr(fmt.Errorf("read session token: %w", err))
			}
			b, err := readTokenFile(fh, file)
			fh.Close()
			if err != nil {
				return "", err
			}
			if tok = strings.TrimSpace(string(b)); tok == "" {
				return "", authErr(fmt.Errorf("read session token: %s is empty", file))
			}
		default:
			if lookupEnv != nil {
				v, _ := lookupEnv(EnvToken)
				tok = strings.TrimSpace(v)
			}
			if tok == "" {
				e, err := sess(ctx, reg)
				return e.Token, err
			}
		}
		if strings.ContainsAny(tok, " \t\r\n") {
			return "", authErr(errors.New("the session token has spaces in it"))
		}
		return tok, nil
	}
	return nil
}

// ResolveWith is Resolve for a command that has its own --registry flag
// instead of AddFlags' (configure-docker): registryFlag is its value, and
// there is no --token-file.
func (r *Remote) ResolveWith(f *cmdutil.Factory, registryFlag string) error {
	r.registryFlag, r.tokenFile = registryFlag, ""
	return r.Resolve(f)
}

// readTokenFile reads the token file r, called name, refusing one larger
// than maxTokenFile.
func readTokenFile(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("read session token: %w", err)
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("read session token: %s is larger than %d bytes", name, maxTokenFile)
	}
	return b, nil
}

// Connect returns a Client for Registry with the session token from
// Token, over HTTPClient. The registry URL is checked before the token is
// looked for.
func (r *Remote) Connect(ctx context.Context) (*Client, error) {
	if r.Registry == "" {
		return nil, &cmdutil.HintError{Err: errors.New("no registry"), Hint: "pass --registry HOST, set " + shared.EnvRegistry + ", or run `chainctl config set registry HOST`"}
	}
	if _, err := ParseRegistryURL(r.Registry); err != nil {
		return nil, err
	}
	if r.Token == nil {
		return nil, errors.New("no session token source")
	}
	tok, err := r.Token(ctx)
	if err != nil {
		return nil, err
	}
	var hc *http.Client
	if r.HTTPClient != nil {
		if hc, err = r.HTTPClient(); err != nil {
			return nil, err
		}
	}
	return New(hc, r.Registry, tok)
}

// ErrorText words one kind of resource's errors for MapError.
type ErrorText struct {
	// Forbidden is the hint under a 403: the role the session lacks.
	Forbidden string
	// NotFound, if set, replaces the server's message for a 404, such as
	// `no identity "ci"`.
	NotFound string
}

// MapError turns an API error into the CLI's error types: 401 and 403
// become AuthErrors (exit code 4) with hints, a 404 is text.NotFound if
// set, and any other *Error shows the server's message (or the status
// text). Errors that are not an *Error are returned as they are.
func MapError(err error, text ErrorText) error {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		return err
	}
	msg := apiErr.Message
	if msg == "" {
		msg = http.StatusText(apiErr.Status)
	}
	switch {
	case apiErr.Status == http.StatusUnauthorized:
		return &cmdutil.AuthError{Err: &cmdutil.HintError{
			Err:  fmt.Errorf("the registry refused the session token: %s", msg),
			Hint: "the session may have ended: run `chainctl auth login`, or check --token-file and $" + EnvToken,
		}}
	case apiErr.Status == http.StatusForbidden:
		return &cmdutil.AuthError{Err: &cmdutil.HintError{
			Err:  fmt.Errorf("permission denied: %s", msg),
			Hint: text.Forbidden,
		}}
	case apiErr.Status == http.StatusNotFound && text.NotFound != "":
		return errors.New(text.NotFound)
	}
	return errors.New(msg)
}
