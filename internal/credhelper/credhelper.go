// Package credhelper is the docker credential helper
// (https://github.com/docker/docker-credential-helpers#development): the
// protocol is docker-credential-helpers' own credentials.HandleCommand, on
// the streams Helper.Run is given. The action is the first argument, the
// input comes on stdin, the answer goes to stdout and, on failure, the
// error message goes to stdout too, because that is where docker reads it.
//
// "get" is answered by a Source (see Cache: stored credentials and sessions
// the CLI made; Fallback and Exec for the standalone helper binary).
// "store", "erase" and "list" go to a Store, which keeps what docker login
// or oras login hand the helper (a pull token, say); without a Store they
// are refused. Secrets are written to stdout only, and only by "get": never
// to stderr, a log, or an error message.
package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/docker/docker-credential-helpers/credentials"
)

// ErrNotFound is what Source.Get returns when it has nothing for a server.
// Its text is the exact message docker and crane expect for "no credentials";
// clients match on it, so it must not change.
var ErrNotFound = errors.New("credentials not found in native keychain")

// errStoreUnsupported answers "store" and "erase" when the Helper has no Store.
var errStoreUnsupported = errors.New("stored passwords are not supported: chainctl is passwordless; " +
	"log in with `chainctl auth login` instead and docker will ask chainctl for short-lived credentials")

// maxInput caps what is read from stdin: a server URL or a small JSON object.
const maxInput = 64 << 10

// Source finds credentials for a registry.
type Source interface {
	// Get returns the username and secret for serverURL, or ErrNotFound.
	Get(ctx context.Context, serverURL string) (user, secret string, err error)
}

// Store keeps credentials handed to the helper by docker login and the like.
// Its methods never put a secret in an error.
type Store interface {
	// Store keeps c, replacing what there was for its server.
	Store(ctx context.Context, c Credentials) error
	// Erase forgets what Store kept for serverURL; erasing nothing is not
	// an error.
	Erase(ctx context.Context, serverURL string) error
	// List maps each server with stored credentials to its username.
	List(ctx context.Context) (map[string]string, error)
}

// NoLogins is a Source that has no credentials for anyone.
type NoLogins struct{}

// Get implements Source.
func (NoLogins) Get(context.Context, string) (string, string, error) { return "", "", ErrNotFound }

// Credentials is the protocol's JSON object (ServerURL, Username, Secret).
type Credentials = credentials.Credentials

// Helper answers credential-helper calls.
type Helper struct {
	// Source answers "get"; nil means no credentials for anyone.
	Source Source
	// Store answers "store", "erase" and "list"; nil refuses "store" and
	// "erase" and lists nothing.
	Store Store
	// Version is printed by the "version" action.
	Version string
	// Name is the program name used in usage messages.
	Name string
}

// Run performs the action in args[0] and returns the process exit code: 0 on
// success, 1 on any failure, with the failure described on stdout (the
// protocol) and the usage on stderr when the call itself was malformed.
func (h *Helper) Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: %s <get|store|erase|list|version>\n", h.name())
		return 1
	}
	var err error
	switch action := args[0]; action {
	case credentials.ActionGet, credentials.ActionStore, credentials.ActionErase, credentials.ActionList:
		err = h.handle(ctx, action, stdin, stdout)
	case credentials.ActionVersion, "--version", "-v":
		_, err = fmt.Fprintf(stdout, "%s (chainctl) %s\n", h.name(), h.Version)
	default:
		fmt.Fprintf(stderr, "unknown action %q\nusage: %s <get|store|erase|list|version>\n", action, h.name())
		return 1
	}
	if err != nil {
		// The protocol puts the error on stdout, with no decoration, so that
		// "credentials not found in native keychain" matches exactly.
		fmt.Fprintln(stdout, err.Error())
		return 1
	}
	return 0
}

// handle reads the input (bounded) and passes the action to
// credentials.HandleCommand.
func (h *Helper) handle(ctx context.Context, action string, stdin io.Reader, stdout io.Writer) error {
	var in []byte
	if action != credentials.ActionList {
		b, err := io.ReadAll(io.LimitReader(stdin, maxInput+1))
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		if len(b) > maxInput {
			return fmt.Errorf("standard input is larger than %d bytes", maxInput)
		}
		// The library's JSON decoder can quote a character of the input,
		// which may be part of the secret: say only what was wrong.
		if action == credentials.ActionStore && !json.Valid(b) {
			return errors.New("read credentials: standard input is not a credentials JSON object")
		}
		in = b
	}
	return credentials.HandleCommand(adapter{ctx: ctx, h: h}, action, bytes.NewReader(in), stdout)
}

func (h *Helper) name() string {
	if h.Name == "" {
		return "docker-credential-chainctl"
	}
	return h.Name
}

// adapter is the Helper as docker-credential-helpers' credentials.Helper,
// whose methods take no context.
type adapter struct {
	ctx context.Context
	h   *Helper
}

// Get implements credentials.Helper.
func (a adapter) Get(serverURL string) (string, string, error) {
	src := a.h.Source
	if src == nil {
		src = NoLogins{}
	}
	user, secret, err := src.Get(a.ctx, serverURL)
	if errors.Is(err, ErrNotFound) {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	if err != nil {
		return "", "", fmt.Errorf("get credentials for %s: %w", serverURL, err)
	}
	return user, secret, nil
}

// Add implements credentials.Helper. The library has checked that
// ServerURL and Username are not empty.
func (a adapter) Add(c *credentials.Credentials) error {
	if a.h.Store == nil {
		return errStoreUnsupported
	}
	if c.Secret == "" {
		return fmt.Errorf("store credentials for %s: no Secret", c.ServerURL)
	}
	return a.h.Store.Store(a.ctx, *c)
}

// Delete implements credentials.Helper.
func (a adapter) Delete(serverURL string) error {
	if a.h.Store == nil {
		return errStoreUnsupported
	}
	return a.h.Store.Erase(a.ctx, serverURL)
}

// List implements credentials.Helper: the protocol maps server URLs to
// usernames.
func (a adapter) List() (map[string]string, error) {
	if a.h.Store == nil {
		return map[string]string{}, nil
	}
	m, err := a.h.Store.List(a.ctx)
	if m == nil && err == nil {
		m = map[string]string{}
	}
	return m, err
}
