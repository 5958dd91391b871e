package devidp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/chainctl/chainctl/internal/oidc/devidp"
)

func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, devidp.WithTokenLifetime(30*time.Minute))
	verifier := oauth2.GenerateVerifier()
	code := e.code(oauth2.S256ChallengeFromVerifier(verifier))

	status, tok := e.exchange(code, verifier)
	if status != http.StatusOK {
		t.Fatalf("exchange = %d %v, want 200", status, tok)
	}
	if tok["token_type"] != "Bearer" || tok["access_token"] == "" || tok["expires_in"] != float64(1800) {
		t.Errorf("token response = %v", tok)
	}
	idt, claims := e.verify(tok["id_token"].(string), "nonce-456")
	if idt.Issuer != e.srv.URL || idt.Subject != "dev" || len(idt.Audience) != 1 || idt.Audience[0] != "chainctl" {
		t.Errorf("id token iss/sub/aud = %s/%s/%v", idt.Issuer, idt.Subject, idt.Audience)
	}
	if got := idt.Expiry.Sub(idt.IssuedAt); got != 30*time.Minute {
		t.Errorf("exp - iat = %s, want 30m", got)
	}
	if claims.Email != "dev@localhost" || !claims.EmailVerified || claims.Name == "" || claims.AuthTime == 0 {
		t.Errorf("claims = %+v", claims)
	}

	// The code is single-use.
	if status, m := e.exchange(code, verifier); status != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("second exchange = %d %v, want 400 invalid_grant", status, m)
	}
}

func TestAuthorizationCodeFlowWithOAuth2Client(t *testing.T) {
	// x/oauth2 sends the public client id as HTTP Basic with no password.
	e := newEnv(t, devidp.WithUser(devidp.User{Subject: "alice", Email: "alice@example.test", Name: "Alice"}))
	op, err := oidc.NewProvider(t.Context(), e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ep := op.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	cfg := oauth2.Config{ClientID: "chainctl", Endpoint: ep, RedirectURL: e.redirect, Scopes: []string{"openid", "email"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-456"))
	resp, body := e.get(http.DefaultClient, authURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", authURL, resp.StatusCode)
	}
	form := formFields(t, body)
	form.Set("action", "approve")
	e.postForm(http.DefaultClient, "/authorize", form, nil)
	q := <-e.got

	tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	idt, claims := e.verify(tok.Extra("id_token").(string), "nonce-456")
	if idt.Subject != "alice" || claims.Email != "alice@example.test" || claims.Name != "Alice" {
		t.Errorf("id token sub %q claims %+v", idt.Subject, claims)
	}
}

func TestAuthorizeRejects(t *testing.T) {
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	tests := []struct {
		name   string
		change func(q url.Values)
		// wantError is the error redirected to the client; "" means an
		// error page with no redirect at all.
		wantError string
	}{
		{"unknown client_id", func(q url.Values) { q.Set("client_id", "evil") }, ""},
		{"missing client_id", func(q url.Values) { q.Del("client_id") }, ""},
		{"non-loopback redirect_uri", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/cb") }, ""},
		{"https redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1:8443/cb") }, ""},
		{"user info in redirect_uri", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:80@evil.example/cb") }, ""},
		{"loopback lookalike", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1.evil.example/cb") }, ""},
		{"fragment in redirect_uri", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:5000/cb#x") }, ""},
		{"missing redirect_uri", func(q url.Values) { q.Del("redirect_uri") }, ""},
		{"two redirect_uris", func(q url.Values) { q.Add("redirect_uri", "http://127.0.0.1:1/") }, ""},
		{"missing PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"challenge without method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"malformed challenge", func(q url.Values) { q.Set("code_challenge", "short") }, "invalid_request"},
		{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"missing state", func(q url.Values) { q.Del("state") }, "invalid_request"},
		{"missing nonce", func(q url.Values) { q.Del("nonce") }, "invalid_request"},
		{"scope without openid", func(q url.Values) { q.Set("scope", "email") }, "invalid_scope"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "openid admin") }, "invalid_scope"},
		{"duplicate state", func(q url.Values) { q.Add("state", "other") }, "invalid_request"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := e.authParams(challenge)
			tt.change(q)
			resp, body := e.get(e.noFollow, e.srv.URL+"/authorize?"+q.Encode())
			loc := resp.Header.Get("Location")
			if tt.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest || loc != "" || strings.Contains(body, "csrf_token") {
					t.Errorf("GET /authorize = %d Location %q, want 400 error page and no redirect", resp.StatusCode, loc)
				}
				return
			}
			u, err := url.Parse(loc)
			if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc, e.redirect+"?") {
				t.Fatalf("GET /authorize = %d Location %q, want 302 to %s", resp.StatusCode, loc, e.redirect)
			}
			if got := u.Query().Get("error"); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			if u.Query().Get("code") != "" {
				t.Errorf("Location %q has a code", loc)
			}
		})
	}
}

func TestAuthorizeAcceptsLoopbackRedirects(t *testing.T) {
	e := newEnv(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	for _, redirect := range []string{
		"http://127.0.0.1:49152/callback",
		"http://[::1]:49152/callback",
		"http://localhost:1/",
		"http://127.0.0.1/cb?x=1",
	} {
		q := e.authParams(challenge)
		q.Set("redirect_uri", redirect)
		if resp, _ := e.get(e.noFollow, e.srv.URL+"/authorize?"+q.Encode()); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /authorize with redirect_uri %s = %d, want 200", redirect, resp.StatusCode)
		}
	}
}

func TestTokenRejects(t *testing.T) {
	tests := []struct {
		name       string
		change     func(f url.Values)
		wantStatus int
		wantError  string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, 400, "invalid_grant"},
		{"missing verifier", func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_request"},
		{"short verifier", func(f url.Values) { f.Set("code_verifier", "abc") }, 400, "invalid_grant"},
		{"other redirect_uri", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:1/callback") }, 400, "invalid_grant"},
		{"code of another client", func(f url.Values) { f.Set("client_id", "other") }, 400, "invalid_grant"},
		{"unknown client", func(f url.Values) { f.Set("client_id", "evil") }, 401, "invalid_client"},
		{"missing client", func(f url.Values) { f.Del("client_id") }, 401, "invalid_client"},
		{"client secret", func(f url.Values) { f.Set("client_secret", "x") }, 401, "invalid_client"},
		{"unknown code", func(f url.Values) { f.Set("code", "nope") }, 400, "invalid_grant"},
		{"missing grant_type", func(f url.Values) { f.Del("grant_type") }, 400, "invalid_request"},
		{"password grant", func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
	}
	e := newEnv(t, devidp.WithClientIDs("chainctl", "other"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			code := e.code(oauth2.S256ChallengeFromVerifier(verifier))
			f := url.Values{
				"grant_type": {"authorization_code"}, "client_id": {"chainctl"}, "code": {code},
				"redirect_uri": {e.redirect}, "code_verifier": {verifier},
			}
			tt.change(f)
			status, m := e.token(f)
			if status != tt.wantStatus || m["error"] != tt.wantError || m["id_token"] != nil {
				t.Errorf("token = %d %v, want %d %s", status, m, tt.wantStatus, tt.wantError)
			}
		})
	}

	t.Run("code spent by a failed attempt", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := e.code(oauth2.S256ChallengeFromVerifier(verifier))
		e.exchange(code, oauth2.GenerateVerifier())
		if status, m := e.exchange(code, verifier); m["error"] != "invalid_grant" {
			t.Errorf("exchange after a wrong verifier = %d %v, want invalid_grant", status, m)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := e.code(oauth2.S256ChallengeFromVerifier(verifier))
		e.clock.Advance(2 * time.Minute)
		if status, m := e.exchange(code, verifier); m["error"] != "invalid_grant" {
			t.Errorf("exchange of an expired code = %d %v, want invalid_grant", status, m)
		}
	})
	t.Run("json body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("POST /token with JSON = %d %s, want 400 JSON error", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}

func TestLoginFormRejects(t *testing.T) {
	e := newEnv(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	tests := []struct {
		name       string
		change     func(f url.Values, h http.Header)
		wantStatus int
	}{
		{"missing CSRF token", func(f url.Values, _ http.Header) { f.Del("csrf_token") }, http.StatusForbidden},
		{"wrong CSRF token", func(f url.Values, _ http.Header) { f.Set("csrf_token", "forged") }, http.StatusForbidden},
		{"another request's CSRF token", func(f url.Values, _ http.Header) {
			f.Set("csrf_token", e.loginPage(challenge).Get("csrf_token"))
		}, http.StatusForbidden},
		{"cross-origin post", func(_ url.Values, h http.Header) { h.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		{"null origin", func(_ url.Values, h http.Header) { h.Set("Origin", "null") }, http.StatusForbidden},
		{"unknown request", func(f url.Values, _ http.Header) { f.Set("request", "nope") }, http.StatusBadRequest},
		{"no action", func(f url.Values, _ http.Header) { f.Del("action") }, http.StatusBadRequest},
		{"expired", func(url.Values, http.Header) { e.clock.Advance(11 * time.Minute) }, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := e.loginPage(challenge)
			f.Set("action", "approve")
			h := http.Header{}
			tt.change(f, h)
			resp, _ := e.postForm(e.noFollow, "/authorize", f, h)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != "" {
				t.Errorf("POST /authorize = %d Location %q, want %d and no redirect",
					resp.StatusCode, resp.Header.Get("Location"), tt.wantStatus)
			}
		})
	}

	t.Run("replayed form", func(t *testing.T) {
		f := e.loginPage(challenge)
		f.Set("action", "approve")
		h := http.Header{"Origin": {e.srv.URL}}
		if resp, _ := e.postForm(e.noFollow, "/authorize", f, h); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first POST /authorize = %d, want 303", resp.StatusCode)
		}
		if resp, _ := e.postForm(e.noFollow, "/authorize", f, h); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("second POST /authorize = %d, want 400", resp.StatusCode)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		f := e.loginPage(challenge)
		f.Set("action", "cancel")
		resp, _ := e.postForm(e.noFollow, "/authorize", f, nil)
		u, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || u.Query().Get("error") != "access_denied" ||
			u.Query().Get("state") != "state-123" || u.Query().Get("code") != "" {
			t.Errorf("cancel = %d Location %q, want 303 with error=access_denied", resp.StatusCode, u)
		}
	})
}

func TestMaxPendingLogins(t *testing.T) {
	e := newEnv(t, devidp.WithMaxPending(2))
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	e.loginPage(challenge)
	e.loginPage(challenge)
	resp, _ := e.get(e.noFollow, e.srv.URL+"/authorize?"+e.authParams(challenge).Encode())
	if u, _ := url.Parse(resp.Header.Get("Location")); u == nil || u.Query().Get("error") != "temporarily_unavailable" {
		t.Errorf("third login = %d %q, want temporarily_unavailable", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.clock.Advance(11 * time.Minute) // the first two expire and make room
	e.loginPage(challenge)
}
