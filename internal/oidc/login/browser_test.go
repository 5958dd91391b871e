package login_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/login"
)

// browser drives the login page as a person's browser would. Its hooks
// let a test play the attacker.
type browser struct {
	t    *testing.T
	idp  *idp
	deny bool
	// authURL and redirect may change the URLs the browser visits.
	authURL  func(*url.URL)
	redirect func(*url.URL)
	// replayRedirect visits the loopback redirect a second time.
	replayRedirect bool

	sawAuthURL   string
	redirectCode int // status of the loopback listener's answer
	replayCode   int
	page         string
}

// open is the BrowserOpener: it runs the whole browser side at once. The
// loopback listener is already serving when Browser calls it.
func (b *browser) open(raw string) error {
	t := b.t
	b.sawAuthURL = raw
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("parse authorize url: %v", err)
		return err
	}
	q := u.Query()
	for name, want := range map[string]string{
		"response_type": "code", "code_challenge_method": "S256", "client_id": b.idp.cfg.ClientID,
	} {
		if got := q.Get(name); got != want {
			t.Errorf("authorize url %s = %q, want %q", name, got, want)
		}
	}
	if ru := q.Get("redirect_uri"); !strings.HasPrefix(ru, "http://127.0.0.1:") {
		t.Errorf("redirect_uri = %q, want a 127.0.0.1 loopback", ru)
	}
	if len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 || q.Get("code_challenge") == "" {
		t.Errorf("authorize url lacks a strong state, nonce or code_challenge: %s", raw)
	}
	if b.authURL != nil {
		b.authURL(u)
	}
	c := noFollow()
	resp, page := get(t, c, u.String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="signin"`) {
		t.Errorf("GET authorize = %d, want the login page with #signin:\n%s", resp.StatusCode, page)
		return nil
	}
	form := hiddenFields(page)
	form.Set("action", "approve")
	if b.deny {
		form.Set("action", "cancel")
	}
	resp, _ = postForm(t, c, b.idp.srv.URL+"/authorize", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST authorize = %d, want 303", resp.StatusCode)
		return nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Errorf("parse redirect: %v", err)
		return nil
	}
	if b.redirect != nil {
		b.redirect(loc)
	}
	resp, b.page = get(t, c, loc.String())
	b.redirectCode = resp.StatusCode
	if b.replayRedirect {
		resp, _ = get(t, c, loc.String())
		b.replayCode = resp.StatusCode
	}
	return nil
}

func setQuery(name, value string) func(*url.URL) {
	return func(u *url.URL) {
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
	}
}

func delQuery(name string) func(*url.URL) {
	return func(u *url.URL) {
		q := u.Query()
		q.Del(name)
		u.RawQuery = q.Encode()
	}
}

func TestBrowser(t *testing.T) {
	tests := []struct {
		name      string
		browser   browser
		transport *rewriteTransport
		wantErr   error  // errors.Is target; nil for success
		wantText  string // in the error message
		wantPage  int    // loopback listener's status
	}{
		{name: "ok", wantPage: http.StatusOK},
		{name: "second redirect refused", browser: browser{replayRedirect: true}, wantPage: http.StatusOK},
		{name: "user cancels", browser: browser{deny: true}, wantErr: login.ErrAccessDenied, wantText: "cancelled", wantPage: http.StatusBadRequest},
		{name: "state mismatch", browser: browser{redirect: setQuery("state", "forged")}, wantErr: login.ErrStateMismatch, wantPage: http.StatusBadRequest},
		{name: "state missing", browser: browser{redirect: delQuery("state")}, wantErr: login.ErrStateMismatch, wantPage: http.StatusBadRequest},
		{name: "issuer mix-up", browser: browser{redirect: setQuery("iss", "https://evil.example")}, wantText: "names issuer", wantPage: http.StatusBadRequest},
		{name: "no code", browser: browser{redirect: delQuery("code")}, wantText: "neither code nor error", wantPage: http.StatusBadRequest},
		{name: "nonce substituted", browser: browser{authURL: setQuery("nonce", "attacker-nonce")}, wantErr: login.ErrInvalidIDToken, wantText: "nonce", wantPage: http.StatusOK},
		{
			name:      "wrong PKCE verifier",
			transport: &rewriteTransport{rewrite: func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 43)) }},
			wantErr:   login.ErrInvalidGrant, wantText: "PKCE", wantPage: http.StatusOK,
		},
		{
			name:      "PKCE verifier missing",
			transport: &rewriteTransport{rewrite: func(f url.Values) { f.Del("code_verifier") }},
			wantText:  "code_verifier is required", wantPage: http.StatusOK,
		},
		{
			name:      "replayed code",
			transport: &rewriteTransport{replay: true},
			wantErr:   login.ErrInvalidGrant, wantText: "already used", wantPage: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newIDP(t)
			b := tt.browser
			b.t, b.idp = t, env
			var shown string
			var shownErr error
			opts := []login.Option{
				login.WithBrowserOpener(b.open),
				login.WithTimeout(10 * time.Second),
				login.WithPrompter(login.PrompterFuncs{AuthURL: func(u string, err error) { shown, shownErr = u, err }}),
			}
			if tt.transport != nil {
				opts = append(opts, login.WithHTTPClient(&http.Client{Transport: tt.transport}))
			}
			tok, err := login.Browser(context.Background(), env.cfg, opts...)

			if shown == "" || shown != b.sawAuthURL || shownErr != nil {
				t.Errorf("ShowAuthURL(%q, %v), want the opened URL %q and nil", shown, shownErr, b.sawAuthURL)
			}
			if b.redirectCode != tt.wantPage {
				t.Errorf("loopback listener answered %d, want %d", b.redirectCode, tt.wantPage)
			}
			if b.replayRedirect && b.replayCode != http.StatusConflict {
				t.Errorf("second redirect answered %d, want 409", b.replayCode)
			}
			if tt.wantErr == nil && tt.wantText == "" {
				if err != nil {
					t.Fatalf("Browser() = %v, want a token", err)
				}
				if tok.Subject != "dev" || tok.Issuer != env.cfg.Issuer || tok.Email != "dev@localhost" || tok.Raw == "" {
					t.Errorf("Browser() = %+v, want sub dev of %s", tok, env.cfg.Issuer)
				}
				if !strings.Contains(b.page, "close this window") {
					t.Errorf("success page = %q, want it to say the window can be closed", b.page)
				}
				return
			}
			if err == nil {
				t.Fatalf("Browser() = %+v, want an error", tok)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Browser() = %v, want errors.Is %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Browser() = %v, want it to mention %q", err, tt.wantText)
			}
		})
	}
}

func TestBrowserNoOpener(t *testing.T) {
	// With no opener the URL is only shown; the user copies it into a
	// browser, which is what the prompter does here.
	env := newIDP(t)
	b := &browser{t: t, idp: env}
	var shownErr error
	tok, err := login.Browser(context.Background(), env.cfg,
		login.WithTimeout(10*time.Second),
		login.WithPrompter(login.PrompterFuncs{AuthURL: func(u string, err error) {
			shownErr = err
			_ = b.open(u)
		}}))
	if err != nil {
		t.Fatalf("Browser() = %v", err)
	}
	if tok.Subject != "dev" {
		t.Errorf("Browser() subject = %q, want dev", tok.Subject)
	}
	if !errors.Is(shownErr, login.ErrNoBrowser) {
		t.Errorf("ShowAuthURL error = %v, want ErrNoBrowser", shownErr)
	}
}

func TestBrowserOpenerFails(t *testing.T) {
	env := newIDP(t)
	openErr := errors.New("no display")
	var shownErr error
	_, err := login.Browser(context.Background(), env.cfg,
		login.WithTimeout(200*time.Millisecond),
		login.WithBrowserOpener(func(string) error { return openErr }),
		login.WithPrompter(login.PrompterFuncs{AuthURL: func(_ string, err error) { shownErr = err }}))
	if !errors.Is(err, login.ErrTimeout) {
		t.Errorf("Browser() = %v, want ErrTimeout", err)
	}
	if !errors.Is(shownErr, openErr) {
		t.Errorf("ShowAuthURL error = %v, want the opener's error", shownErr)
	}
}

func TestBrowserCancelled(t *testing.T) {
	env := newIDP(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := login.Browser(ctx, env.cfg, login.WithBrowserOpener(func(string) error { cancel(); return nil }))
	if !errors.Is(err, context.Canceled) || errors.Is(err, login.ErrTimeout) {
		t.Errorf("Browser() = %v, want context.Canceled and not ErrTimeout", err)
	}
}

func TestBrowserNoProvider(t *testing.T) {
	_, err := login.Browser(context.Background(), &login.Config{})
	if !errors.Is(err, login.ErrNoProvider) {
		t.Errorf("Browser() = %v, want ErrNoProvider", err)
	}
}

func TestBrowserExpiredToken(t *testing.T) {
	// The provider's tokens live 1h; a client clock 2h ahead sees them expired.
	env := newIDP(t)
	b := &browser{t: t, idp: env}
	_, err := login.Browser(context.Background(), env.cfg, login.WithBrowserOpener(b.open),
		login.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) }))
	if !errors.Is(err, login.ErrInvalidIDToken) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("Browser() = %v, want ErrInvalidIDToken for an expired token", err)
	}
}

func TestBrowserRebindingRefused(t *testing.T) {
	// A redirect whose Host is not 127.0.0.1:port (a DNS-rebound name) is
	// refused and does not end the login.
	env := newIDP(t)
	b := &browser{t: t, idp: env, redirect: func(u *url.URL) {
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		req.Host = "rebound.example:" + u.Port()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", u, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("rebound redirect answered %d, want 421", resp.StatusCode)
		}
	}}
	tok, err := login.Browser(context.Background(), env.cfg, login.WithBrowserOpener(b.open))
	if err != nil || tok.Subject != "dev" {
		t.Errorf("Browser() = %+v, %v, want the login to complete after the refused request", tok, err)
	}
}
