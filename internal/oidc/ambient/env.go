package ambient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Env is everything the providers touch outside the process: environment
// variables, files, commands and HTTP. OSEnv is the real one; tests supply
// fakes.
type Env interface {
	// LookupEnv is os.LookupEnv.
	LookupEnv(key string) (string, bool)
	// Open opens a file for reading; callers cap how much they read.
	Open(path string) (fs.File, error)
	// LookPath is exec.LookPath.
	LookPath(file string) (string, error)
	// Run executes name with args and returns its standard output.
	// Implementations must honour ctx and cap the output they buffer.
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
	// HTTPClient returns the client for token endpoints. Providers disable
	// redirects on a copy of it and bound each request by their timeout.
	HTTPClient() *http.Client
}

// maxCommandOutput caps what OSEnv.Run buffers from stdout and stderr.
const maxCommandOutput = 64 << 10

type osEnv struct {
	client *http.Client
}

// OSEnv returns the Env of the running process. Its HTTP client has a
// DefaultTimeout overall timeout and the default transport (which honours
// proxy environment variables).
func OSEnv() Env {
	return osEnv{client: &http.Client{Timeout: DefaultTimeout}}
}

func (osEnv) LookupEnv(key string) (string, bool) { return os.LookupEnv(key) }

func (osEnv) Open(path string) (fs.File, error) { return os.Open(path) }

func (osEnv) LookPath(file string) (string, error) { return exec.LookPath(file) }

func (e osEnv) HTTPClient() *http.Client { return e.client }

// Run implements Env. Standard error is not returned on success; on failure
// its last line (capped) is included in the error, since agents explain
// failures there and never print the token to it.
func (osEnv) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second // don't hang on children holding the pipes
	stdout := &cappedBuffer{max: maxCommandOutput}
	stderr := &cappedBuffer{max: maxCommandOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if msg := lastLine(stderr.buf.String(), 200); msg != "" {
			return nil, fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	if stdout.overflow {
		return nil, fmt.Errorf("output larger than %d bytes", maxCommandOutput)
	}
	return stdout.buf.Bytes(), nil
}

// cappedBuffer keeps at most max bytes and records whether more came. It
// does not embed bytes.Buffer: io.Copy would use the promoted ReadFrom and
// bypass the cap.
type cappedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.overflow = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func lastLine(s string, max int) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// readFileCapped reads at most max bytes of a regular file, failing if it is
// larger. Errors name the path but never the contents.
func readFileCapped(env Env, path string, max int64) ([]byte, error) {
	f, err := env.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

// fileExists reports whether path opens as a regular file.
func fileExists(env Env, path string) bool {
	f, err := env.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}
