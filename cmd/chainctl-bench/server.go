package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is one registry process under test, with its own data directory.
type server struct {
	name   string
	base   string // http://127.0.0.1:port
	cmd    *exec.Cmd
	log    *os.File
	logf   string
	done   chan struct{} // closed when the process has exited
	result error         // exit status, valid once done is closed
}

// freeAddr returns a loopback address that was free a moment ago. Another
// process could take it before the server binds; startServer then fails
// with the server's own error in the log excerpt.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// startChainctl starts `chainctl registry serve` as name on addr with its
// data in dir and the configuration file cfg (see chainctlConfig), with env
// added to the benchmark's environment.
func startChainctl(ctx context.Context, name, bin, dir, addr, cfg string, extra, env []string) (*server, error) {
	args := append([]string{"registry", "serve", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--config", cfg}, extra...)
	return startProcess(ctx, name, bin, args, dir, env, "http://"+addr, pingReady)
}

// distributionConfig is CNCF Distribution's config for the benchmark: the
// filesystem driver, as in its published image (in-memory blob descriptor
// cache, redirects off since it serves from disk), with logging reduced to
// errors and no access log, and no background upload purging.
const distributionConfig = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
  redirect:
    disable: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`

// startDistribution starts CNCF Distribution's `registry serve` on addr with
// a generated config and its data in dir.
func startDistribution(ctx context.Context, bin, dir, addr string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start distribution: %w", err)
	}
	cfg := filepath.Join(dir, "config.yml")
	body := fmt.Sprintf(distributionConfig, filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return nil, fmt.Errorf("write distribution config: %w", err)
	}
	return startProcess(ctx, "distribution", bin, []string{"serve", cfg}, dir, nil, "http://"+addr, pingReady)
}

// pingReady is a registry's readiness probe: GET /v2/ answers 200 or 401.
func pingReady(ctx context.Context, base string) error {
	c, err := newClient(base)
	if err != nil {
		return err
	}
	defer c.close()
	return c.ping(ctx)
}

// startProcess runs bin with args in dir, with env added to the
// benchmark's environment and its output going to dir/server.log, and
// waits until ready(ctx, base) succeeds. It never returns a running
// process with an error.
func startProcess(ctx context.Context, name, bin string, args []string, dir string, env []string, base string, ready func(context.Context, string) error) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	logf := filepath.Join(dir, "server.log")
	log, err := os.Create(logf)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	// Not CommandContext: the caller stops the process with stop, which
	// asks politely first.
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, base: base, cmd: cmd, log: log, logf: logf, done: make(chan struct{})}
	go func() {
		s.result = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, 30*time.Second, ready); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls ready until the server answers, it exits, or timeout.
func (s *server) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context, string) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = ready(pctx, s.base)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s exited before it was ready (%v)%s", s.name, s.result, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer at %s within %s: %v%s", s.name, s.base, timeout, last, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exited reports the exit status and log tail if the process has died.
func (s *server) exited() string {
	select {
	case <-s.done:
		return fmt.Sprintf(" (%s exited: %v)%s", s.name, s.result, s.logTail())
	default:
		return ""
	}
}

// logTail returns the last lines the server wrote, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logf)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	const max = 2048
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "\n--- " + s.name + " log (tail) ---\n" + strings.TrimRight(string(b), "\n")
}

// stop asks the server to shut down (SIGTERM) and kills it after 10 s.
func (s *server) stop() {
	defer s.log.Close()
	select {
	case <-s.done:
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// peakRSS returns the server's peak resident set size in bytes.
func (s *server) peakRSS() (int64, error) {
	select {
	case <-s.done:
		return 0, fmt.Errorf("%s has exited", s.name)
	default:
	}
	return peakRSS(s.cmd.Process.Pid)
}

// binaryVersion runs bin with args and returns the first line of its
// output, or "" if that fails: the version is informative only.
func binaryVersion(ctx context.Context, bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
