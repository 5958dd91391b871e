// Package browsertest starts headless Chromium for tests that drive a real
// login page (the dev identity provider, chainctl auth login) through
// chromedp, with the flags this workplace needs (TESTING.md). Only tests
// import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TabTimeout bounds what one tab may take.
const TabTimeout = 60 * time.Second

// Browser starts headless Chromium for t, stopped at cleanup, and returns
// its context; open tabs on it with Tab. Without Chromium the test is
// skipped, or fails when CHAINCTL_TEST_REQUIRE_ALL=1 (as in CI), since a
// skipped suite must not pass for a run of everything.
func Browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
			t.Fatal("chromium not found and CHAINCTL_TEST_REQUIRE_ALL=1 (install it with .ci/tools.sh)")
		}
		t.Skip("chromium not found; install it with .ci/tools.sh")
	}
	dir, err := os.MkdirTemp("", "chainctl-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's children can still write for a moment after it stops.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these Chromium reaches for Google's hosts, which this
		// closed network refuses.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(800, 900),
	)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Tab opens a new tab of browserCtx with a deadline of TabTimeout.
func Tab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(browserCtx, TabTimeout)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}
