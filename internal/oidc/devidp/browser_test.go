package devidp_test

import (
	"context"
	"github.com/chainctl/chainctl/internal/browsertest"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/chainctl/chainctl/internal/oidc/devidp"
)

func browser(t *testing.T) context.Context { return browsertest.Browser(t) }

func tab(t *testing.T, browserCtx context.Context) context.Context {
	return browsertest.Tab(t, browserCtx)
}

// screenshot saves the page to $DEVIDP_SCREENSHOT_DIR, when set, for a
// person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DEVIDP_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// browserEnv serves a provider on the real clock and configures x/oauth2 from
// its discovery document, as the CLI does.
func browserEnv(t *testing.T) (*env, oauth2.Config, *oidc.IDTokenVerifier) {
	t.Helper()
	e := newEnv(t, devidp.WithClock(time.Now), devidp.WithDevicePollInterval(time.Second))
	op, err := oidc.NewProvider(t.Context(), e.srv.URL)
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	cfg := oauth2.Config{
		ClientID:    "chainctl",
		Endpoint:    op.Endpoint(),
		RedirectURL: e.redirect,
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
	}
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return e, cfg, op.Verifier(&oidc.Config{ClientID: "chainctl"})
}

func TestBrowserAuthorizationCode(t *testing.T) {
	browserCtx := browser(t)
	e, cfg, verifier := browserEnv(t)
	ctx := tab(t, browserCtx)

	pkce := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(pkce), oidc.Nonce("browser-nonce"))
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
		t.Fatalf("open login page: %v", err)
	}
	screenshot(t, ctx, "devidp-login.png")
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("signin")))
	if err != nil {
		t.Fatalf("click #signin: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("page after #signin: status %d, want the listener's 200", resp.Status)
	}

	var q url.Values
	select {
	case q = <-e.got:
	case <-ctx.Done():
		t.Fatal("the browser never reached the loopback redirect listener")
	}
	if q.Get("state") != "browser-state" || q.Get("iss") != e.srv.URL {
		t.Fatalf("callback query = %v", q)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, e.redirect+"?") {
		t.Errorf("browser location = %q, %v; want the redirect listener", loc, err)
	}

	tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	idt, err := verifier.Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("Verify(id_token) = %v", err)
	}
	if idt.Subject != "dev" || idt.Nonce != "browser-nonce" {
		t.Errorf("id token sub %q nonce %q", idt.Subject, idt.Nonce)
	}
}

func TestBrowserDevice(t *testing.T) {
	browserCtx := browser(t)
	_, cfg, verifier := browserEnv(t)
	ctx := tab(t, browserCtx)

	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatalf("DeviceAuth() = %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(da.VerificationURIComplete), chromedp.WaitVisible(chromedp.ID("approve"))); err != nil {
		t.Fatalf("open verification page: %v", err)
	}
	screenshot(t, ctx, "devidp-device.png")
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("user-code")))
	if err != nil || strings.TrimSpace(shown) != da.UserCode {
		t.Errorf("page shows code %q (%v), want %q", shown, err, da.UserCode)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("approve"))); err != nil {
		t.Fatalf("click #approve: %v", err)
	}
	if title, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("title"))); err != nil || title != "Device approved" {
		t.Errorf("page title after approval = %q, %v", title, err)
	}

	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken() = %v", err)
	}
	idt, err := verifier.Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("Verify(id_token) = %v", err)
	}
	if idt.Subject != "dev" {
		t.Errorf("id token sub = %q", idt.Subject)
	}
}

// TestBrowserStylesAllowedByCSP checks in a real browser that the
// Content-Security-Policy, which allows no script, still allows the inline
// style sheet by its hash.
func TestBrowserStylesAllowedByCSP(t *testing.T) {
	browserCtx := browser(t)
	_, cfg, _ := browserEnv(t)
	ctx := tab(t, browserCtx)
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("n"))
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
		t.Fatal(err)
	}
	radius, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("signin")).borderTopLeftRadius`))
	if err != nil || radius != "8px" {
		t.Errorf("#signin border radius = %q, %v; want 8px (is the style sheet blocked by the CSP?)", radius, err)
	}
}
