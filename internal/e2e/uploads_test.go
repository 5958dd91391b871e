package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUploadsBelongToTheirPrincipal (issue 10, findings 3 and 4) on a
// real server: an upload session answers only the principal that opened
// it, even when another may push to the same repository, and a principal
// can hold only so many open.
func TestUploadsBelongToTheirPrincipal(t *testing.T) {
	ci := newCIIssuer(t)
	pusher := fmt.Sprintf(`    - id: other-ci
      issuer: %s
      issuer_keys: %s
      subject: other
      roles: [{role: pusher, repositories: ["team/*"]}]
`, ciIssuerURL, ci.jwks)
	srv := startServerOpts(t, serverOptions{ci: ci, identities: pusher, args: []string{"--max-uploads-per-principal", "2"}})
	scope := "repository:team/app:pull,push"
	alice := accessToken(t, srv, scope)
	bob := tokenAs(t, srv, ci.token(t, "other", srv.Addr), scope)

	do := func(token, method, path, body string) (*http.Response, string) {
		t.Helper()
		url := path
		if !strings.HasPrefix(path, "http") {
			url = srv.URL() + path
		}
		req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Errors []struct{ Code string } `json:"errors"`
		}
		_ = json.Unmarshal(b, &e)
		code := ""
		if len(e.Errors) > 0 {
			code = e.Errors[0].Code
		}
		return resp, code
	}

	resp, _ := do(alice, "POST", "/v2/team/app/blobs/uploads/", "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		t.Fatalf("alice's POST = %d, Location %q", resp.StatusCode, loc)
	}
	if resp, _ := do(alice, "PATCH", loc, "abc"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("alice's PATCH = %d", resp.StatusCode)
	}
	for _, m := range []struct{ method, query, body string }{
		{"GET", "", ""}, {"PATCH", "", "evil"}, {"PUT", "?digest=sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ""}, {"DELETE", "", ""},
	} {
		if resp, code := do(bob, m.method, loc+m.query, m.body); resp.StatusCode != http.StatusNotFound || code != "BLOB_UPLOAD_UNKNOWN" {
			t.Errorf("bob's %s of alice's upload = %d %s, want 404 BLOB_UPLOAD_UNKNOWN", m.method, resp.StatusCode, code)
		}
	}
	// Untouched by bob: alice's upload still holds her 3 bytes.
	if resp, _ := do(alice, "GET", loc, ""); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "0-2" {
		t.Errorf("alice's upload after bob's tries: %d, Range %q; want 204, 0-2", resp.StatusCode, resp.Header.Get("Range"))
	}

	// The cap: alice has one open; a second is allowed, a third is not.
	if resp, _ := do(alice, "POST", "/v2/team/app/blobs/uploads/", ""); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("alice's second POST = %d", resp.StatusCode)
	}
	resp, code := do(alice, "POST", "/v2/team/app/blobs/uploads/", "")
	if resp.StatusCode != http.StatusTooManyRequests || code != "TOOMANYREQUESTS" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("alice's third POST = %d %s, Retry-After %q; want 429 TOOMANYREQUESTS with Retry-After", resp.StatusCode, code, resp.Header.Get("Retry-After"))
	}
	// Bob's cap is his own.
	if resp, _ := do(bob, "POST", "/v2/team/app/blobs/uploads/", ""); resp.StatusCode != http.StatusAccepted {
		t.Errorf("bob's POST with alice at her cap = %d, want 202", resp.StatusCode)
	}
}
