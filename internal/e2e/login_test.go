package e2e

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chainctl/chainctl/internal/browsertest"
	"github.com/chainctl/chainctl/internal/toolpath"
)

// loginChromium opens a tab of a headless Chromium started for the test.
func loginChromium(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Tab(t, browsertest.Browser(t))
}

// loginClient is a user of the chainctl CLI with a home of its own.
type loginClient struct {
	env []string
	dir string
}

func newLoginClient(t *testing.T) *loginClient {
	t.Helper()
	home := t.TempDir()
	return &loginClient{dir: home, env: []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"CHAINCTL_REGISTRY=",
		"CHAINCTL_BROWSER=",
		"CHAINCTL_IDENTITY_TOKEN=",
		"NO_COLOR=1",
	}}
}

// start runs chainctl in the background with stdin from /dev/null (no
// terminal); wait collects its exit.
func (c *loginClient) start(t *testing.T, ctx context.Context, extraEnv []string, args ...string) (*exec.Cmd, *lockedBuffer, <-chan error) {
	t.Helper()
	cmd := commandIn(ctx, c.dir, append(append([]string{}, c.env...), extraEnv...), chainctlBin, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = 5 * time.Second
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return cmd, out, done
}

// waitExit waits for a command started by start to exit 0.
func waitExit(t *testing.T, done <-chan error, out *lockedBuffer, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v; output:\n%s", what, err, out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not finish within 60s; output:\n%s", what, out)
	}
}

// fakeBrowser writes a browser for $CHAINCTL_BROWSER that only saves the
// URL it is given to urlFile, for the test to open in Chromium.
func (c *loginClient) fakeBrowser(t *testing.T) (opener, urlFile string) {
	t.Helper()
	urlFile = filepath.Join(c.dir, "browser-url")
	opener = filepath.Join(c.dir, "open-browser")
	script := "#!/bin/sh\nprintf '%s' \"$1\" > \"" + urlFile + ".tmp\" && mv \"" + urlFile + ".tmp\" \"" + urlFile + "\"\n"
	if err := os.WriteFile(opener, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return opener, urlFile
}

// assertLoggedInAsDev checks `chainctl auth status -o json` for the --dev
// user's identity.
func (c *loginClient) assertLoggedInAsDev(t *testing.T, ctx context.Context, srv *server) {
	t.Helper()
	cmd := commandIn(ctx, c.dir, c.env, chainctlBin, "auth", "status", "--registry", srv.Addr, "-o", "json")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("chainctl auth status: %v\n%s", err, b)
	}
	var st struct {
		Registry string `json:"registry"`
		LoggedIn bool   `json:"logged_in"`
		Kind     string `json:"kind"`
		Identity string `json:"identity"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("auth status output %q: %v", b, err)
	}
	if !st.LoggedIn || st.Identity != "dev" || st.Kind != "session" || st.Registry != srv.Addr {
		t.Errorf("auth status = %+v, want logged in to %s with a session as identity dev", st, srv.Addr)
	}
}

// TestBrowserLogin logs in with `chainctl auth login --browser` against a
// --dev registry: the browser the CLI opens is a script that hands the URL
// to the test, headless Chromium signs in on the dev login page, and the
// redirect reaches the CLI's loopback listener.
func TestBrowserLogin(t *testing.T) {
	tab := loginChromium(t)
	srv := startServer(t, "--dev")
	c := newLoginClient(t)
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()

	opener, urlFile := c.fakeBrowser(t)
	_, out, done := c.start(t, ctx, []string{"CHAINCTL_BROWSER=" + opener},
		"auth", "login", "--browser", "--registry", srv.Addr)

	authURL := waitFile(t, urlFile, done, out)
	if !strings.HasPrefix(authURL, srv.URL()+"/dev-idp/") {
		t.Errorf("browser opened %q, want the dev login page under %s/dev-idp/", authURL, srv.URL())
	}
	// The CLI prints the URL after the browser was asked to open it, so
	// the file can be there a moment before the line is.
	if !waitOutput(out, authURL, 10*time.Second) {
		t.Errorf("the URL opened is not printed too; output:\n%s", out)
	}

	if err := chromedp.Do(tab, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
		t.Fatalf("open login page: %v; chainctl output:\n%s", err, out)
	}
	resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.ID("signin")))
	if err != nil {
		t.Fatalf("click #signin: %v; chainctl output:\n%s", err, out)
	}
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.URL, "http://127.0.0.1:") {
		t.Errorf("page after #signin: %d %s, want the CLI's loopback listener answering 200", resp.Status, resp.URL)
	}
	waitExit(t, done, out, "chainctl auth login --browser")
	if !strings.Contains(out.String(), "Logged in to "+srv.Addr) || !strings.Contains(out.String(), "identity dev") {
		t.Errorf("login output does not say who is logged in:\n%s", out)
	}
	c.assertLoggedInAsDev(t, ctx, srv)
}

// verificationURL finds the complete verification URL that
// `chainctl auth login --headless` prints after "or open".
var verificationURL = regexp.MustCompile(`or open\s+(\S+)`)

// TestDeviceLogin logs in with `chainctl auth login --headless` against a
// --dev registry, headless Chromium approving the code on the dev
// provider's verification page.
func TestDeviceLogin(t *testing.T) {
	tab := loginChromium(t)
	srv := startServer(t, "--dev")
	c := newLoginClient(t)
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()

	_, out, done := c.start(t, ctx, nil, "auth", "login", "--headless", "--registry", srv.Addr)
	var verify string
	deadline := time.Now().Add(30 * time.Second)
	for verify == "" {
		if m := verificationURL.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "Waiting for the login") {
			verify = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("chainctl auth login --headless exited (%v) before showing a code; output:\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification URL within 30s; output:\n%s", out)
		}
	}
	if !strings.HasPrefix(verify, srv.URL()+"/dev-idp/") {
		t.Errorf("verification URL %q, want one under %s/dev-idp/", verify, srv.URL())
	}

	if err := chromedp.Do(tab, chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.ID("approve"))); err != nil {
		t.Fatalf("open verification page: %v; chainctl output:\n%s", err, out)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.ID("approve"))); err != nil {
		t.Fatalf("click #approve: %v", err)
	}
	if title, err := chromedp.Run(tab, chromedp.Text(chromedp.ID("title"))); err != nil || title != "Device approved" {
		t.Errorf("page title after approval = %q, %v", title, err)
	}
	waitExit(t, done, out, "chainctl auth login --headless")
	if !strings.Contains(out.String(), "Logged in to "+srv.Addr) {
		t.Errorf("login output does not say who is logged in:\n%s", out)
	}
	c.assertLoggedInAsDev(t, ctx, srv)
}

// startZitadel runs the zitadel/oidc example server (installed as "server"
// by .ci/tools.sh) with a redirect URI for chainctl's loopback listener:
// its "native" client is public and, as RFC 8252 asks, accepts that
// redirect on any loopback port. It returns the issuer.
func startZitadel(t *testing.T) string {
	t.Helper()
	bin, err := toolpath.Find(t.Context(), "server", func(p string) bool {
		info, err := buildinfo.ReadFile(p)
		return err == nil && info.Path == "github.com/zitadel/oidc/v3/example/server"
	})
	if err != nil {
		requireTool(t, "zitadel-oidc-example-server")
	}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port,
		"REDIRECT_URI=http://localhost:9999/auth/callback,http://127.0.0.1/callback")
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("zitadel example server output:\n%s", logs)
		}
	})
	issuer := "http://localhost:" + port + "/"
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(issuer + ".well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return issuer
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("zitadel example server did not start: %v\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserLoginZitadel is TestBrowserLogin with the zitadel/oidc
// example server as the registry's login provider (auth.login): Chromium
// fills in its login form for the test user (subject id1).
func TestBrowserLoginZitadel(t *testing.T) {
	tab := loginChromium(t)
	issuer := startZitadel(t)
	srv := startServerWith(t, `    - id: zitadel-user
      issuer: `+issuer+`
      subject: id1
      audience: native
      roles: [{role: owner, repositories: ["*"]}]
  login:
    issuer: `+issuer+`
    client_id: native
`)
	c := newLoginClient(t)
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()

	opener, urlFile := c.fakeBrowser(t)
	_, out, done := c.start(t, ctx, []string{"CHAINCTL_BROWSER=" + opener},
		"auth", "login", "--browser", "--registry", srv.Addr)
	authURL := waitFile(t, urlFile, done, out)
	if !strings.HasPrefix(authURL, issuer) {
		t.Errorf("browser opened %q, want the zitadel provider %s", authURL, issuer)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
		t.Fatalf("open login page: %v; chainctl output:\n%s", err, out)
	}
	resp, err := chromedp.RunResponse(tab,
		chromedp.SendKeys(chromedp.ID("username"), "test-user@localhost"),
		chromedp.SendKeys(chromedp.ID("password"), "verysecure"),
		chromedp.Click(`button[type="submit"]`))
	if err != nil {
		t.Fatalf("submit the login form: %v; chainctl output:\n%s", err, out)
	}
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.URL, "http://127.0.0.1:") {
		t.Errorf("page after login: %d %s, want the CLI's loopback listener answering 200", resp.Status, resp.URL)
	}
	waitExit(t, done, out, "chainctl auth login --browser (zitadel)")
	if !strings.Contains(out.String(), "Logged in to "+srv.Addr+" as id1") || !strings.Contains(out.String(), "identity zitadel-user") {
		t.Errorf("login output does not say who is logged in:\n%s", out)
	}
}

// waitFile waits for path to appear and returns its content, failing when
// the command exits first.
// waitOutput reports whether out contains want within d.
func waitOutput(out *lockedBuffer, want string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(out.String(), want) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func waitFile(t *testing.T, path string, done <-chan error, out *lockedBuffer) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			return string(b)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("chainctl exited (%v) before opening a browser; output:\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("$CHAINCTL_BROWSER was not run within 30s; output:\n%s", out)
		}
	}
}
