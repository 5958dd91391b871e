package shared

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

// Environment variables for the registry and the session token.
const (
	EnvRegistry = "CHAINCTL_REGISTRY"
	EnvToken    = "CHAINCTL_TOKEN"
)

// maxTokenFile caps a token file: session tokens are a few hundred bytes.
const maxTokenFile = 64 << 10

// tokenHint says where a session token comes from until `chainctl auth
// login` exists.
const tokenHint = "set CHAINCTL_TOKEN or --token-file; `chainctl auth login` will do this"

// Remote holds the flags that name the registry and the session token
// every identities command uses.
type Remote struct {
	Registry  string
	TokenFile string
}

// AddFlags registers --registry and --token-file on fs.
func (r *Remote) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&r.Registry, "registry", "", "registry URL, such as https://registry.example.com (default $"+EnvRegistry+")")
	fs.StringVar(&r.TokenFile, "token-file", "", "read the session token from `FILE` (default $"+EnvToken+")")
}

// RegistryURL returns --registry, else $CHAINCTL_REGISTRY, else "".
func (r *Remote) RegistryURL(lookupEnv func(string) (string, bool)) string {
	if r.Registry != "" {
		return r.Registry
	}
	if lookupEnv != nil {
		if v, ok := lookupEnv(EnvRegistry); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TokenSource returns a function that reads the session token from
// --token-file, else $CHAINCTL_TOKEN. It is read only when a request is
// about to be made, and never printed.
func (r *Remote) TokenSource(lookupEnv func(string) (string, bool)) func() (string, error) {
	file := r.TokenFile
	return func() (string, error) {
		var tok string
		switch {
		case file != "":
			f, err := os.Open(file)
			if err != nil {
				return "", &cmdutil.AuthError{Err: &cmdutil.HintError{Err: fmt.Errorf("read session token: %w", err), Hint: tokenHint}}
			}
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
			if err != nil {
				return "", fmt.Errorf("read session token: %w", err)
			}
			if len(b) > maxTokenFile {
				return "", fmt.Errorf("read session token: %s is larger than %d bytes", file, maxTokenFile)
			}
			tok = strings.TrimSpace(string(b))
		case lookupEnv != nil:
			v, _ := lookupEnv(EnvToken)
			tok = strings.TrimSpace(v)
		}
		if tok == "" {
			return "", &cmdutil.AuthError{Err: &cmdutil.HintError{Err: errors.New("no session token"), Hint: tokenHint}}
		}
		if strings.ContainsAny(tok, " \t\r\n") {
			return "", &cmdutil.AuthError{Err: &cmdutil.HintError{Err: errors.New("the session token has spaces in it"), Hint: tokenHint}}
		}
		return tok, nil
	}
}

// Connect returns a Client for registry, authenticated with the token
// from token, over the HTTP client from httpClient.
func Connect(httpClient func() (*http.Client, error), registry string, token func() (string, error)) (*Client, error) {
	if registry == "" {
		return nil, &cmdutil.HintError{Err: errors.New("no registry"), Hint: "pass --registry URL or set " + EnvRegistry}
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
			Hint: "the session may have expired; " + tokenHint,
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
