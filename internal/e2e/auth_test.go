package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// accessToken asks the server's token endpoint for scopes, logging in with
// the server's upstream token.
func accessToken(t *testing.T, srv *server, scopes ...string) string {
	t.Helper()
	return tokenAs(t, srv, srv.Token(t), scopes...)
}

func tokenAs(t *testing.T, srv *server, password string, scopes ...string) string {
	t.Helper()
	return tokenFor(t, srv, srv.Addr, password, scopes...)
}

// tokenFor gets an access token from srv's /token for service (the
// registry's service name: its address, unless --external-url says
// otherwise), with password as the e2e identity's upstream token.
func tokenFor(t *testing.T, srv *server, service, password string, scopes ...string) string {
	t.Helper()
	q := url.Values{"service": {service}, "scope": scopes}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL()+"/token?"+q.Encode(), nil)
	if password != "" {
		req.SetBasicAuth("e2e", password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token string `json:"token"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/token %v = %d %+v (%v)", scopes, resp.StatusCode, body, err)
	}
	return body.Token
}

// TestTokenAuthOverTheWire checks the challenges and refusals of a real
// server: anonymous pushes are refused, a token is good only for what it
// names, and forged credentials get nothing.
func TestTokenAuthOverTheWire(t *testing.T) {
	srv := startServer(t)
	do := func(method, path, bearer string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := do("POST", "/v2/team/app/blobs/uploads/", "")
	want := `Bearer realm="` + srv.URL() + `/token",service="` + srv.Addr + `",scope="repository:team/app:pull,push"`
	if resp.StatusCode != 401 || resp.Header.Get("Www-Authenticate") != want {
		t.Fatalf("anonymous push = %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"), want)
	}
	if resp := do("GET", "/v2/public/base/tags/list", ""); resp.StatusCode != 404 {
		t.Errorf("anonymous pull of a public repository = %d, want 404 NAME_UNKNOWN (allowed, but empty)", resp.StatusCode)
	}

	forA := accessToken(t, srv, "repository:team/a:pull,push")
	if resp := do("POST", "/v2/team/a/blobs/uploads/", forA); resp.StatusCode != 202 {
		t.Errorf("push with a token for team/a = %d, want 202", resp.StatusCode)
	}
	resp = do("POST", "/v2/team/b/blobs/uploads/", forA)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("Www-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("token for team/a used on team/b = %d %q, want 401 insufficient_scope", resp.StatusCode, resp.Header.Get("Www-Authenticate"))
	}

	// A token of another key, and a token for another subject, get no access.
	other := newCIIssuer(t).token(t, "e2e", srv.Addr)
	wrongSubject := srv.ci.token(t, "someone-else", srv.Addr)
	for name, cred := range map[string]string{"forged": other, "other subject": wrongSubject} {
		q := url.Values{"service": {srv.Addr}, "scope": {"repository:team/a:pull"}}
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL()+"/token?"+q.Encode(), nil)
		req.SetBasicAuth("e2e", cred)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s credential at /token = %d, want 401", name, resp.StatusCode)
		}
	}
	if resp := do("GET", "/v2/team/a/tags/list", other); resp.StatusCode != 401 {
		t.Errorf("an upstream token used as a bearer = %d, want 401", resp.StatusCode)
	}
}
