package shared

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/pflag"

	authshared "github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/session"
)

// EnvToken gives a session token instead of the login session.
const EnvToken = "CHAINCTL_TOKEN"

// maxTokenFile caps a token file: session tokens are a few hundred bytes.
const maxTokenFile = 64 << 10

// Remote holds the flags that name the registry and, optionally, a
// session token, for every identities command.
type Remote struct {
	Registry  string
	TokenFile string

	// UserConfig and Session replace, in tests, the user's configuration
	// file and the login session (authshared.UserConfig, authshared.Session).
	UserConfig func() (config.User, error)
	Session    func(ctx context.Context, reg session.Registry) (string, error)
}

// AddFlags registers --registry and --token-file on fs.
func (r *Remote) AddFlags(fs *pflag.FlagSet) {
	authshared.AddRegistryFlag(fs, &r.Registry)
	fs.StringVar(&r.TokenFile, "token-file", "", "read the session token from `FILE` instead of the `chainctl auth login` session (default $"+EnvToken+")")
}

// Resolve picks the registry (--registry, $CHAINCTL_REGISTRY, then
// `chainctl config get registry`) and returns its URL and the source of
// the session token: --token-file, else $CHAINCTL_TOKEN, else the session
// `chainctl auth login` keeps (or one exchanged from ambient CI
// credentials). The token is found only when a request is about to be
// made, and never printed.
func (r *Remote) Resolve(ctx context.Context, lookupEnv func(string) (string, bool), httpClient func() (*http.Client, error)) (string, func() (string, error), error) {
	userConfig := r.UserConfig
	if userConfig == nil {
		userConfig = authshared.UserConfig
	}
	reg, err := authshared.ResolveRegistry(r.Registry, lookupEnv, userConfig)
	if err != nil {
		return "", nil, err
	}
	sess := r.Session
	if sess == nil {
		sess = func(ctx context.Context, reg session.Registry) (string, error) {
			hc, err := httpClient()
			if err != nil {
				return "", err
			}
			cache, err := authshared.Cache()
			if err != nil {
				return "", err
			}
			e, err := authshared.Session(ctx, reg, authshared.SessionOptions{HTTPClient: hc, Cache: cache, LookupEnv: lookupEnv})
			return e.Token, err
		}
	}
	file := r.TokenFile
	hint := "set --token-file or $" + EnvToken + ", or " + authshared.LoginHint(reg)
	return reg.URL, func() (string, error) {
		var tok string
		switch {
		case file != "":
			f, err := os.Open(file)
			if err != nil {
				return "", &cmdutil.AuthError{Err: &cmdutil.HintError{Err: fmt.Errorf("read session token: %w", err), Hint: hint}}
			}
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
			if err != nil {
				return "", fmt.Errorf("read session token: %w", err)
			}
			if len(b) > maxTokenFile {
				return "", fmt.Errorf("read session token: %s is larger than %d bytes", file, maxTokenFile)
			}
			if tok = strings.TrimSpace(string(b)); tok == "" {
				return "", &cmdutil.AuthError{Err: &cmdutil.HintError{Err: fmt.Errorf("read session token: %s is empty", file), Hint: hint}}
			}
		default:
			if lookupEnv != nil {
				v, _ := lookupEnv(EnvToken)
				tok = strings.TrimSpace(v)
			}
			if tok == "" {
				return sess(ctx, reg)
			}
		}
		if strings.ContainsAny(tok, " \t\r\n") {
			return "", &cmdutil.AuthError{Err: &cmdutil.HintError{Err: errors.New("the session token has spaces in it"), Hint: hint}}
		}
		return tok, nil
	}, nil
}

// Connect returns a Client for registry, authenticated with the token
// from token, over the HTTP client from httpClient.
func Connect(httpClient func() (*http.Client, error), registry string, token func() (string, error)) (*Client, error) {
	if registry == "" {
		return nil, &cmdutil.HintError{Err: errors.New("no registry"), Hint: "pass --registry HOST, set " + authshared.EnvRegistry + ", or run `chainctl config set registry HOST`"}
	}
	if _, err := ParseRegistryURL(registry); err != nil {
		return nil, err
	}
	tok, err := token()
	if err != nil {
		return nil, err
	}
	var hc *http.Client
	if httpClient != nil {
		if hc, err = httpClient(); err != nil {
			return nil, err
		}
	}
	return NewClient(hc, registry, tok)
}

// MapError turns an API error into the CLI's error types: 401 and 403
// become AuthErrors (exit code 4), a 404 for an identity names it, and
// any other error shows the server's message. id may be "".
func MapError(err error, id string) error {
	var apiErr *APIError
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
			Hint: "managing identities needs the owner role on every repository the identity's roles name",
		}}
	case apiErr.Status == http.StatusNotFound && id != "":
		return fmt.Errorf("no identity %q", id)
	}
	return errors.New(msg)
}
