// Package credhelper speaks the docker credential-helper protocol
// (https://github.com/docker/docker-credential-helpers#development) on the
// streams it is given: the action is the first argument, the input comes on
// stdin, the answer goes to stdout and, on failure, the error message goes to
// stdout too, because that is where docker reads it from.
//
// chainctl is passwordless, so the helper never stores a secret: it answers
// "get" from a Source (a login the CLI made earlier) and refuses "store" and
// "erase". Secrets are written to stdout only, never to stderr or a log.
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

// errStoreUnsupported answers "store" and "erase".
var errStoreUnsupported = errors.New("stored passwords are not supported: chainctl is passwordless; " +
	"log in with `chainctl auth login` instead and docker will ask chainctl for short-lived credentials")

// maxInput caps what is read from stdin: a server URL or a small JSON object.
const maxInput = 64 << 10

// Source finds credentials for a registry.
type Source interface {
	// Get returns the username and secret for serverURL, or ErrNotFound.
	Get(ctx context.Context, serverURL string) (user, secret string, err error)
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
	case "store", "erase":
		// Drain the input without looking at it: for "store" it holds a
		// secret, which must go nowhere.
		_, _ = io.Copy(io.Discard, io.LimitReader(stdin, maxInput))
		err = errStoreUnsupported
	case "list":
		// The protocol's list maps server URLs to usernames; logins are
		// short-lived and are not enumerated.
		_, err = io.WriteString(stdout, "{}\n")
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
