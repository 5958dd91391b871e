package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/tokencache"
)

// EnvMinLife names the environment variable that sets how much life a
// session token must have left to be handed out (a Go duration such as
// "10m"; default tokencache.DefaultMinLife), so that a long push never
// starts with a token about to expire.
const EnvMinLife = "CHAINCTL_TOKEN_MIN_LIFE"

// MinLife returns the minimum token life getenv sets through EnvMinLife.
func MinLife(getenv func(string) string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(EnvMinLife))
	if v == "" {
		return tokencache.DefaultMinLife, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("$%s=%q: want a duration such as 10m", EnvMinLife, v)
	}
	return d, nil
}

// Standalone returns the helper that the docker-credential-chainctl
// program runs. It answers "get" from the token cache alone, so a warm
// call reads one file and starts nothing heavy; when the cache has no
// usable credential it asks chainctl (Exec), which renews sessions from
// ambient credentials and knows the user's default registry. "store",
// "erase" and "list" work on the cache directly.
func Standalone(version string, getenv func(string) string) *Helper {
	minLife, err := MinLife(getenv)
	if err != nil {
		return &Helper{Source: failing{err}, Store: failing{err}, Version: version}
	}
	c := NewCache(OpenDefault, WithMinLife(minLife))
	return &Helper{Source: Fallback{First: c, Next: Exec{Stderr: os.Stderr}}, Store: c, Version: version}
}

// failing is a Source and Store that fails every call with err.
type failing struct{ err error }

func (f failing) Get(context.Context, string) (string, string, error) { return "", "", f.err }
func (f failing) Store(context.Context, Credentials) error            { return f.err }
func (f failing) Erase(context.Context, string) error                 { return f.err }
func (f failing) List(context.Context) (map[string]string, error)     { return nil, f.err }

// Fallback is a Source that asks First, and Next when First has no usable
// credentials (any error: Next is the authority, First a fast path).
type Fallback struct {
	First, Next Source
}

// Get implements Source.
func (f Fallback) Get(ctx context.Context, serverURL string) (string, string, error) {
	if user, secret, err := f.First.Get(ctx, serverURL); err == nil {
		return user, secret, nil
	}
	return f.Next.Get(ctx, serverURL)
}

// Exec is a Source that runs `chainctl auth credential-helper get`.
type Exec struct {
	// Path is chainctl's path; "" finds it with FindChainctl.
	Path string
	// Stderr receives chainctl's standard error (never a secret); nil
	// discards it.
	Stderr io.Writer
}

// Get implements Source.
func (e Exec) Get(ctx context.Context, serverURL string) (string, string, error) {
	path := e.Path
	if path == "" {
		var err error
		if path, err = FindChainctl(); err != nil {
			return "", "", err
		}
	}
	cmd := exec.CommandContext(ctx, path, "auth", "credential-helper", "get")
	cmd.Stdin = strings.NewReader(serverURL)
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxInput}
	cmd.Stderr = e.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		// chainctl answered with the protocol's error text on stdout.
		msg := strings.TrimSpace(out.String())
		if msg == ErrNotFound.Error() {
			return "", "", ErrNotFound
		}
		if msg == "" {
			msg = exit.String()
		}
		return "", "", errors.New(strings.TrimPrefix(msg, "get credentials for "+serverURL+": "))
	case err != nil:
		return "", "", fmt.Errorf("run %s: %w", path, err)
	}
	var c Credentials
	if err := json.Unmarshal(out.Bytes(), &c); err != nil || c.Secret == "" {
		return "", "", fmt.Errorf("%s auth credential-helper get: unexpected answer", path)
	}
	return c.Username, c.Secret, nil
}

// FindChainctl returns the chainctl executable next to this program (the
// release archives install them together), else the one in PATH.
func FindChainctl() (string, error) {
	name := "chainctl"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		if p, err := filepath.EvalSymlinks(self); err == nil {
			self = p
		}
		next := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(next); err == nil && fi.Mode().IsRegular() {
			return next, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errors.New("chainctl is needed to renew the session but is not installed next to " +
			"docker-credential-chainctl or in PATH; install it, or run `chainctl auth login`")
	}
	return p, nil
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	if k > 0 {
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(p), nil
}
