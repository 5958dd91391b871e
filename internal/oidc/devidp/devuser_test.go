package devidp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/chainctl/chainctl/internal/oidc/devidp"
)

func TestDevUserGrant(t *testing.T) {
	e := newEnv(t)
	status, m := e.token(url.Values{
		"grant_type": {devidp.DevUserGrantType}, "client_id": {"chainctl"}, "scope": {"openid email"},
	})
	if status != http.StatusOK {
		t.Fatalf("dev-user grant = %d %v, want tokens", status, m)
	}
	tok, claims := e.verify(m["id_token"].(string), "")
	if tok.Subject != "dev" || claims.Email != "dev@localhost" || !claims.EmailVerified {
		t.Errorf("ID token sub, email = %q, %q (verified %v), want the development user", tok.Subject, claims.Email, claims.EmailVerified)
	}
	if m["scope"] != "openid email" {
		t.Errorf("scope = %v, want the scopes asked for", m["scope"])
	}
}

func TestDevUserGrantRefusals(t *testing.T) {
	e := newEnv(t)
	grant := func(mod func(url.Values)) url.Values {
		f := url.Values{"grant_type": {devidp.DevUserGrantType}, "client_id": {"chainctl"}, "scope": {"openid"}}
		mod(f)
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		header     http.Header
		wantStatus int
		wantError  string
	}{
		{name: "unknown client", form: grant(func(f url.Values) { f.Set("client_id", "other") }), wantStatus: http.StatusUnauthorized, wantError: "invalid_client"},
		{name: "no openid scope", form: grant(func(f url.Values) { f.Set("scope", "email") }), wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "unknown scope", form: grant(func(f url.Values) { f.Set("scope", "openid admin") }), wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "client secret", form: grant(func(f url.Values) { f.Set("client_secret", "x") }), wantStatus: http.StatusUnauthorized, wantError: "invalid_client"},
		// Every browser sends Origin with a POST; a page that posts the
		// grant cross-site is refused even though it could not read the
		// answer.
		{name: "from a browser", form: grant(func(url.Values) {}), header: http.Header{"Origin": {"https://evil.example"}},
			wantStatus: http.StatusForbidden, wantError: "access_denied"},
		{name: "from our own origin in a browser", form: grant(func(url.Values) {}), header: http.Header{"Origin": {e.srv.URL}},
			wantStatus: http.StatusForbidden, wantError: "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.postForm(http.DefaultClient, "/token", tt.form, tt.header)
			if resp.StatusCode != tt.wantStatus || !containsError(body, tt.wantError) {
				t.Errorf("POST /token = %d %s, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantError)
			}
			if containsField(body, "id_token") {
				t.Errorf("refused grant returned an id_token: %s", body)
			}
		})
	}
}

func containsError(body, code string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(body), &m) == nil && m["error"] == code
}

func containsField(body, name string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(body), &m) == nil && m[name] != nil
}
