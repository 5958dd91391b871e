// Package credhelper speaks the docker credential-helper protocol
// (https://github.com/docker/docker-credential-helpers#development) on the
// streams it is given: the action is the first argument, the input comes on
// stdin, the answer goes to stdout and, on failure, the error message goes to
// stdout too, because that is where docker reads it from.
//
// "get" is answered by a Source (see Cache: stored credentials and, later,
// sessions the CLI made). "store", "erase" and "list" go to a Store, which
// keeps what docker login or oras login hand the helper (a pull token, say);
// without a Store they are refused. Secrets are written to stdout only, and
// only by "get": never to stderr, a log, or an error message.
package credhelper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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

// Credentials is the protocol's JSON object, field names as docker spells them.
type Credentials struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

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
	switch args[0] {
	case "get":
		err = h.get(ctx, stdin, stdout)
	case "store":
		err = h.store(ctx, stdin)
	case "erase":
		err = h.erase(ctx, stdin)
	case "list":
		err = h.list(ctx, stdout)
	case "version", "--version", "-v":
		_, err = fmt.Fprintf(stdout, "%s (chainctl) %s\n", h.name(), h.Version)
	default:
		fmt.Fprintf(stderr, "unknown action %q\nusage: %s <get|store|erase|list|version>\n", args[0], h.name())
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

func (h *Helper) name() string {
	if h.Name == "" {
		return "docker-credential-chainctl"
	}
	return h.Name
}

func (h *Helper) get(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	b, err := io.ReadAll(io.LimitReader(stdin, maxInput))
	if err != nil {
		return fmt.Errorf("read server URL: %w", err)
	}
	serverURL := strings.TrimSpace(string(b))
	if serverURL == "" {
		return errors.New("no server URL on standard input")
	}
	src := h.Source
	if src == nil {
		src = NoLogins{}
	}
	user, secret, err := src.Get(ctx, serverURL)
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get credentials for %s: %w", serverURL, err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false) // docker's "<token>" username stays readable
	return enc.Encode(Credentials{ServerURL: serverURL, Username: user, Secret: secret})
}

func (h *Helper) store(ctx context.Context, stdin io.Reader) error {
	// Read all of the input even when refusing: it holds a secret, which
	// must go nowhere, and docker expects its write to succeed.
	b, err := io.ReadAll(io.LimitReader(stdin, maxInput))
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	if h.Store == nil {
		return errStoreUnsupported
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		// The decoder's message can quote a character of the input, which
		// may be part of the secret: say only what was wrong.
		return errors.New("read credentials: standard input is not a credentials JSON object")
	}
	if strings.TrimSpace(c.ServerURL) == "" {
		return errors.New("store credentials: no ServerURL")
	}
	if c.Secret == "" {
		return fmt.Errorf("store credentials for %s: no Secret", c.ServerURL)
	}
	return h.Store.Store(ctx, c)
}

func (h *Helper) erase(ctx context.Context, stdin io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(stdin, maxInput))
	if err != nil {
		return fmt.Errorf("read server URL: %w", err)
	}
	if h.Store == nil {
		return errStoreUnsupported
	}
	serverURL := strings.TrimSpace(string(b))
	if serverURL == "" {
		return errors.New("no server URL on standard input")
	}
	return h.Store.Erase(ctx, serverURL)
}

func (h *Helper) list(ctx context.Context, stdout io.Writer) error {
	// The protocol's list maps server URLs to usernames.
	m := map[string]string{}
	if h.Store != nil {
		var err error
		if m, err = h.Store.List(ctx); err != nil {
			return err
		}
	}
	if len(m) == 0 {
		_, err := io.WriteString(stdout, "{}\n")
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(m)
}
