// Package s3test runs a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw) on a loopback port, serving a directory
// under the test's temporary directory, plus R2Proxy, which puts Cloudflare
// R2's multipart rules in front of it.
//
// Tests skip when versitygw is not installed, and fail instead when
// CHAINCTL_TEST_REQUIRE_ALL=1 (as in CI); .ci/tools.sh installs it.
package s3test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chainctl/chainctl/internal/toolpath"
)

// Region is the signing region the server is started with, R2's.
const Region = "auto"

// Server is a running versitygw.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// AccessKey and SecretKey are the only credentials it accepts, random
	// for each server.
	AccessKey, SecretKey string

	client *s3.Client
	mu     sync.Mutex
	n      int
}

// Start starts versitygw for the duration of t. It skips t under -short,
// and if versitygw is not installed (failing t instead under
// CHAINCTL_TEST_REQUIRE_ALL=1).
func Start(t *testing.T) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts versitygw, an external S3 server")
	}
	bin := binary(t)
	s := &Server{
		AccessKey: "AK" + rand.Text()[:18],
		SecretKey: rand.Text() + rand.Text()[:14],
	}
	var lastErr error
	for range 3 { // the free port may be taken before versitygw binds it
		if lastErr = s.start(t, bin); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("start versitygw: %v", lastErr)
	}
	s.client = s3.New(s3.Options{
		BaseEndpoint:               aws.String(s.Endpoint),
		Region:                     Region,
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return s
}

func (s *Server) start(t *testing.T, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", Region, "--port", addr, "posix", dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	s.Endpoint = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v; output:\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(s.Endpoint + "/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("versitygw not answering on %s; output:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return nil
}

// NewBucket creates an empty bucket for t and returns its name.
func (s *Server) NewBucket(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	s.n++
	name := fmt.Sprintf("test-%d-%s", s.n, strings.ToLower(rand.Text()[:8]))
	s.mu.Unlock()
	if _, err := s.client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// Client returns an S3 client for the server with its credentials.
func (s *Server) Client() *s3.Client { return s.client }

// Credentials returns a provider of the server's credentials.
func (s *Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")
}

// binary finds versitygw on PATH, else in GOBIN or GOPATH/bin (where
// .ci/tools.sh puts it).
func binary(t *testing.T) string {
	t.Helper()
	p, err := toolpath.Find(context.WithoutCancel(t.Context()), "versitygw", nil)
	if err != nil {
		requireOrSkip(t, "%v", err)
	}
	return p
}

// requireOrSkip skips, or fails when CHAINCTL_TEST_REQUIRE_ALL=1.
func requireOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
		t.Fatalf(format+" (CHAINCTL_TEST_REQUIRE_ALL=1)", args...)
	}
	t.Skipf(format+"; install it with .ci/tools.sh", args...)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}

// lockedBuffer collects a process's output from two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil // enough to diagnose a failure
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
