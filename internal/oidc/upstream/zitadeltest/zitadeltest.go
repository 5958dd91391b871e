// Package zitadeltest runs the zitadel/oidc example server (TESTING.md;
// installed by .ci/tools.sh) as an independent OIDC provider for tests,
// and logs its test user in through the provider's own authorization code
// + PKCE flow, scripted over HTTP. Only tests import it.
package zitadeltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/toolpath"
)

const (
	zitadelModule = "github.com/zitadel/oidc/v3/example/server"
	Client        = "web" // a confidential client of the example server
	zitadelSecret = "secret"
	zitadelUser   = "test-user@localhost" // "test-user@" + the issuer's host
	zitadelPass   = "verysecure"
	Subject       = "id1"
	// zitadelRedirect is the example server's default redirect URI; nothing
	// listens there, the test reads the code from the redirect itself.
	zitadelRedirect = "http://localhost:9999/auth/callback"
)

// requireOrSkip skips, or fails when CHAINCTL_TEST_REQUIRE_ALL=1.
func requireOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
		t.Fatalf(format+" (CHAINCTL_TEST_REQUIRE_ALL=1)", args...)
	}
	t.Skipf(format+"; install it with .ci/tools.sh", args...)
}

// zitadelBinary finds the example server that `go install` names "server":
// on PATH, else in GOBIN or GOPATH/bin (where .ci/tools.sh puts it).
func zitadelBinary(t *testing.T) string {
	t.Helper()
	p, err := toolpath.Find(context.Background(), "server", isZitadel)
	if err != nil {
		requireOrSkip(t, "%s: %v", zitadelModule, err)
	}
	return p
}

// isZitadel reports whether bin is a Go program built from zitadelModule:
// "server" is too common a name to trust.
func isZitadel(bin string) bool {
	info, err := buildinfo.ReadFile(bin)
	return err == nil && info.Path == zitadelModule
}

// Start runs the example server on a free loopback port and returns
// its issuer once discovery answers.
func Start(t *testing.T) string {
	t.Helper()
	bin := zitadelBinary(t)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+zitadelRedirect)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("zitadel example server output:\n%s", logs.String())
		}
	})

	// The example server derives its issuer from PORT.
	issuer := "http://localhost:" + port + "/"
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(issuer + ".well-known/openid-configuration")
		if err == nil {
			var doc struct {
				Issuer string `json:"issuer"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if derr == nil && doc.Issuer == issuer {
				return issuer
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("zitadel example server exited: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("zitadel example server did not serve discovery at %s: %v", issuer, err)
		}
	}
}

// Login runs authorization code + PKCE (S256) for the test user and
// returns the ID token and the nonce it must carry.
func Login(t *testing.T, issuer string) (idToken, nonce string) {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	verifier, state := randomString(t), randomString(t)
	nonce = randomString(t)
	challenge := sha256.Sum256([]byte(verifier))

	// 1. Authorization request: the provider sends the browser to its login page.
	q := url.Values{
		"client_id":             {Client},
		"redirect_uri":          {zitadelRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid profile email"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	loginURL := redirectFrom(t, client, http.MethodGet, issuer+"auth?"+q.Encode(), nil)
	authRequestID := loginURL.Query().Get("authRequestID")
	if authRequestID == "" {
		t.Fatalf("authorization redirected to %s, want the login page with an authRequestID", loginURL)
	}

	// 2. The login form, as the browser would post it.
	form := url.Values{"id": {authRequestID}, "username": {zitadelUser}, "password": {zitadelPass}}
	callback := redirectFrom(t, client, http.MethodPost, loginURL.ResolveReference(&url.URL{Path: loginURL.Path}).String(), form)

	// 3. The provider's callback redirects to the client with a code.
	done := redirectFrom(t, client, http.MethodGet, callback.String(), nil)
	if got := done.Query().Get("state"); got != state {
		t.Fatalf("callback state = %q, want %q", got, state)
	}
	code := done.Query().Get("code")
	if code == "" {
		t.Fatalf("callback %s has no code", done)
	}

	// 4. The client redeems the code.
	tokenForm := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {zitadelRedirect},
		"code_verifier": {verifier},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, issuer+"oauth/token", strings.NewReader(tokenForm.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(Client, zitadelSecret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: %s: %s", resp.Status, body)
	}
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.IDToken == "" {
		t.Fatalf("token response %s: no id_token (%v)", body, err)
	}
	return tr.IDToken, nonce
}

// redirectFrom makes a request that must answer with a redirect and returns
// where it points.
func redirectFrom(t *testing.T, client *http.Client, method, u string, form url.Values) *url.URL {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("%s %s: %s, want a redirect: %s", method, u, resp.Status, b)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return loc
}

func randomString(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for the child's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
