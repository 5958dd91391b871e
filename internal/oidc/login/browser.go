package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const callbackPath = "/callback"

// Browser logs the user in with the authorization code flow and PKCE S256
// (RFC 6749 §4.1, RFC 7636) on a loopback redirect (RFC 8252 §7.3): it
// listens on 127.0.0.1 on a free port, shows the authorization URL and asks
// the browser opener to open it, waits for the redirect, redeems the code
// and verifies the ID token (signature, iss, aud, exp and nonce).
//
// It returns ErrStateMismatch for a redirect that does not carry the
// request's state, an *OAuthError for an error the provider returns (so
// errors.Is(err, ErrAccessDenied) when the user cancels), an error wrapping
// ErrInvalidIDToken when verification fails, and ErrTimeout when the user
// does not finish within the timeout (WithTimeout, default 5 minutes).
func Browser(ctx context.Context, cfg *Config, opts ...Option) (*IDToken, error) {
	o := newOptions(defaultBrowserTimeout, opts)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	p, err := o.provider(ctx, cfg)
	if err != nil {
		return nil, timeoutErr(ctx, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the login redirect: %w", err)
	}
	host := ln.Addr().String()
	endpoint := p.Endpoint()
	// Public client: the client id goes in the form, never as Basic auth;
	// AuthStyleAutoDetect would retry, spending the single-use code.
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	oc := &oauth2.Config{
		ClientID:    cfg.ClientID,
		Endpoint:    endpoint,
		RedirectURL: "http://" + host + callbackPath,
		Scopes:      cfg.scopes(),
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	authURL := oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

	results := make(chan callbackResult, 1)
	cb := &callback{host: host, state: state, issuer: cfg.Issuer, results: results}
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	// Show the URL whatever happens, so it can be copied when no browser opens.
	openErr := ErrNoBrowser
	if o.open != nil {
		if openErr = o.open(authURL); openErr != nil {
			o.logger.DebugContext(ctx, "login: could not open browser", "err", openErr)
		}
	}
	o.prompter.ShowAuthURL(authURL, openErr)

	var res callbackResult
	select {
	case <-ctx.Done():
		return nil, timeoutErr(ctx, ctx.Err())
	case res = <-results:
	}
	if res.err != nil {
		return nil, res.err
	}

	tok, err := oc.Exchange(oidc.ClientContext(ctx, o.client), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("redeem authorization code: %w", oauth2Err(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	return o.verify(ctx, p, cfg, raw, nonce)
}

func timeoutErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// oauth2Err maps an x/oauth2 error response to *OAuthError.
func oauth2Err(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &OAuthError{StatusCode: status, Code: re.ErrorCode, Description: re.ErrorDescription}
	}
	return err
}

type callbackResult struct {
	code string
	err  error
}

// callback is the loopback redirect endpoint. It takes the first redirect
// that reaches callbackPath, good or bad, and refuses every later one.
type callback struct {
	host    string // 127.0.0.1:port; another Host header means DNS rebinding
	state   string
	issuer  string
	results chan callbackResult // capacity 1: the first result wins
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if r.Host != c.host {
		http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
		return
	}
	if r.URL.Path != callbackPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	var res callbackResult
	switch {
	case q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.state)) != 1:
		res.err = ErrStateMismatch
	// RFC 9207 §2.4: when the provider names itself, it must be ours (mix-up attacks).
	case q.Has("iss") && q.Get("iss") != c.issuer:
		res.err = fmt.Errorf("login redirect names issuer %q, want %q", q.Get("iss"), c.issuer)
	case q.Get("error") != "":
		res.err = &OAuthError{Code: q.Get("error"), Description: q.Get("error_description")}
	case q.Get("code") == "":
		res.err = errors.New("login redirect carries neither code nor error")
	default:
		res.code = q.Get("code")
	}
	select {
	case c.results <- res:
	default:
		writePage(w, http.StatusConflict, "Login already handled",
			"This login has already completed or failed. Return to your terminal.")
		return
	}
	if res.err != nil {
		writePage(w, http.StatusBadRequest, "Login failed",
			"chainctl could not complete the login. Return to your terminal for details.")
		return
	}
	writePage(w, http.StatusOK, "Login complete", "You are logged in to chainctl. You can close this window.")
}

// writePage writes a small page; title and text are constants, never
// request data, so nothing needs escaping.
func writePage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>`)
	b.WriteString(title)
	b.WriteString(`</title><style>body{font:16px system-ui,sans-serif;display:flex;align-items:center;justify-content:center;min-height:90vh}</style></head><body><main><h1 id="title">`)
	b.WriteString(title)
	b.WriteString(`</h1><p id="message">`)
	b.WriteString(text)
	b.WriteString(`</p></main></body></html>`)
	_, _ = w.Write([]byte(b.String()))
}
