package devidp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/chainctl/chainctl/internal/oidc/devidp"
)

type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

func (e *env) startDevice(clientID string) (int, deviceAuth) {
	e.t.Helper()
	resp, body := e.postForm(http.DefaultClient, "/device_authorization",
		url.Values{"client_id": {clientID}, "scope": {"openid email"}}, nil)
	var da deviceAuth
	if err := json.Unmarshal([]byte(body), &da); err != nil {
		e.t.Fatalf("device authorization response %q: %v", body, err)
	}
	return resp.StatusCode, da
}

func (e *env) poll(deviceCode string) (int, map[string]any) {
	e.t.Helper()
	return e.token(url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id":   {"chainctl"},
		"device_code": {deviceCode},
	})
}

func (e *env) wantPoll(deviceCode, wantError string) map[string]any {
	e.t.Helper()
	status, m := e.poll(deviceCode)
	switch {
	case wantError == "" && status != http.StatusOK:
		e.t.Fatalf("poll = %d %v, want tokens", status, m)
	case wantError != "" && (status != http.StatusBadRequest || m["error"] != wantError):
		e.t.Fatalf("poll = %d %v, want 400 %s", status, m, wantError)
	}
	return m
}

// decide opens the verification page as a browser would and presses a button.
func (e *env) decide(verificationURL, action string) (int, string) {
	e.t.Helper()
	resp, page := e.get(http.DefaultClient, verificationURL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="approve"`) {
		e.t.Fatalf("GET %s = %d, want the approval page:\n%s", verificationURL, resp.StatusCode, page)
	}
	f := formFields(e.t, page)
	f.Set("action", action)
	resp, body := e.postForm(http.DefaultClient, "/device", f, http.Header{"Origin": {e.srv.URL}})
	return resp.StatusCode, body
}

var userCodeFormat = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

func TestDeviceFlow(t *testing.T) {
	e := newEnv(t)
	status, da := e.startDevice("chainctl")
	if status != http.StatusOK || da.DeviceCode == "" || !userCodeFormat.MatchString(da.UserCode) ||
		da.VerificationURI != e.srv.URL+"/device" ||
		da.VerificationURIComplete != e.srv.URL+"/device?user_code="+da.UserCode ||
		da.ExpiresIn != 600 || da.Interval != 5 {
		t.Fatalf("device authorization = %d %+v", status, da)
	}

	e.wantPoll(da.DeviceCode, "authorization_pending")
	e.wantPoll(da.DeviceCode, "slow_down") // no time passed; the interval grows to 10s
	e.clock.Advance(6 * time.Second)
	e.wantPoll(da.DeviceCode, "slow_down") // 6s < 10s; the interval grows to 15s
	e.clock.Advance(15 * time.Second)
	e.wantPoll(da.DeviceCode, "authorization_pending")

	if status, body := e.decide(da.VerificationURIComplete, "approve"); status != http.StatusOK || !strings.Contains(body, "Device approved") {
		t.Fatalf("approve = %d:\n%s", status, body)
	}
	// The same code cannot be approved twice.
	if resp, _ := e.get(http.DefaultClient, da.VerificationURIComplete); resp.StatusCode != http.StatusNotFound {
		t.Errorf("verification page after approval = %d, want 404", resp.StatusCode)
	}

	m := e.wantPoll(da.DeviceCode, "") // approved: no slow_down, even right away
	idt, claims := e.verify(m["id_token"].(string), "")
	if idt.Subject != "dev" || claims.Email != "dev@localhost" || !claims.EmailVerified || m["scope"] != "openid email" {
		t.Errorf("id token sub %q claims %+v scope %v", idt.Subject, claims, m["scope"])
	}
	e.wantPoll(da.DeviceCode, "invalid_grant") // tokens are handed out once
}

func TestDeviceDeny(t *testing.T) {
	e := newEnv(t)
	_, da := e.startDevice("chainctl")
	if status, body := e.decide(da.VerificationURIComplete, "deny"); status != http.StatusOK || !strings.Contains(body, "Request denied") {
		t.Fatalf("deny = %d:\n%s", status, body)
	}
	e.wantPoll(da.DeviceCode, "access_denied")
	e.wantPoll(da.DeviceCode, "invalid_grant")
}

func TestDeviceExpiry(t *testing.T) {
	e := newEnv(t)
	_, da := e.startDevice("chainctl")
	resp, page := e.get(http.DefaultClient, da.VerificationURIComplete)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verification page = %d", resp.StatusCode)
	}
	e.clock.Advance(11 * time.Minute)

	e.wantPoll(da.DeviceCode, "expired_token")
	if resp, body := e.get(http.DefaultClient, da.VerificationURIComplete); resp.StatusCode != http.StatusNotFound ||
		!strings.Contains(body, "not valid") {
		t.Errorf("verification page after expiry = %d, want 404 with an explanation", resp.StatusCode)
	}
	f := formFields(t, page)
	f.Set("action", "approve")
	if resp, _ := e.postForm(http.DefaultClient, "/device", f, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("approving an expired code = %d, want 400", resp.StatusCode)
	}
	e.wantPoll(da.DeviceCode, "expired_token")
}

func TestDeviceRejects(t *testing.T) {
	e := newEnv(t, devidp.WithClientIDs("chainctl", "other"))

	t.Run("unknown client", func(t *testing.T) {
		if status, _ := e.startDevice("evil"); status != http.StatusUnauthorized {
			t.Errorf("device authorization for an unknown client = %d, want 401", status)
		}
	})
	t.Run("device code of another client", func(t *testing.T) {
		_, da := e.startDevice("other")
		e.wantPoll(da.DeviceCode, "invalid_grant")
	})
	t.Run("unknown device code", func(t *testing.T) {
		e.wantPoll("nope", "invalid_grant")
	})
	t.Run("code typed by hand", func(t *testing.T) {
		_, da := e.startDevice("chainctl")
		resp, body := e.get(http.DefaultClient, e.srv.URL+"/device")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="user_code"`) {
			t.Fatalf("GET /device = %d, want the code entry form", resp.StatusCode)
		}
		typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", " "))
		resp, body = e.get(http.DefaultClient, e.srv.URL+"/device?user_code="+url.QueryEscape(typed))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, da.UserCode) || !strings.Contains(body, `id="approve"`) {
			t.Errorf("GET /device?user_code=%s = %d, want the approval page for %s", typed, resp.StatusCode, da.UserCode)
		}
	})
	t.Run("unknown user code", func(t *testing.T) {
		if resp, _ := e.get(http.DefaultClient, e.srv.URL+"/device?user_code=BCDF-GHJK"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /device with an unknown code = %d, want 404", resp.StatusCode)
		}
	})
	for _, tc := range []struct {
		name   string
		change func(f url.Values, h http.Header)
	}{
		{"missing CSRF token", func(f url.Values, _ http.Header) { f.Del("csrf_token") }},
		{"wrong CSRF token", func(f url.Values, _ http.Header) { f.Set("csrf_token", "forged") }},
		{"cross-origin post", func(_ url.Values, h http.Header) { h.Set("Origin", "http://evil.example") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, da := e.startDevice("chainctl")
			_, page := e.get(http.DefaultClient, da.VerificationURIComplete)
			f, h := formFields(t, page), http.Header{}
			f.Set("action", "approve")
			tc.change(f, h)
			if resp, _ := e.postForm(http.DefaultClient, "/device", f, h); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST /device = %d, want 403", resp.StatusCode)
			}
			e.wantPoll(da.DeviceCode, "authorization_pending")
		})
	}
}

func TestMaxPendingDevices(t *testing.T) {
	e := newEnv(t, devidp.WithMaxPending(2))
	e.startDevice("chainctl")
	e.startDevice("chainctl")
	status, _ := e.startDevice("chainctl")
	if status != http.StatusServiceUnavailable {
		t.Errorf("third device authorization = %d, want 503", status)
	}
	e.clock.Advance(30 * time.Minute) // past expiry and the grace for expired_token
	if status, _ := e.startDevice("chainctl"); status != http.StatusOK {
		t.Errorf("device authorization after expiry = %d, want 200", status)
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	verifier := "v-" + strings.Repeat("x", 50)
	code := e.code(oauth2.S256ChallengeFromVerifier(verifier))
	_, tok := e.exchange(code, verifier)
	_, da := e.startDevice("chainctl")
	_, page := e.get(http.DefaultClient, da.VerificationURIComplete)
	csrf := formFields(t, page).Get("csrf_token")
	e.decide(da.VerificationURIComplete, "approve")
	_, dtok := e.poll(da.DeviceCode)

	logs := e.logs.String()
	if !strings.Contains(logs, "login approved") {
		t.Fatalf("expected log lines, got:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"code": code, "verifier": verifier, "id_token": tok["id_token"].(string), "access_token": tok["access_token"].(string),
		"device_code": da.DeviceCode, "user_code": da.UserCode, "csrf": csrf, "device id_token": dtok["id_token"].(string),
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
}
