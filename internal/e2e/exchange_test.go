package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chainctl/chainctl/internal/oidc/upstream/zitadeltest"
)

// TestExchangeWithIndependentProvider uses the zitadel/oidc example server
// as the upstream issuer: its test user logs in there, the registry
// discovers the provider's keys over HTTP (loopback), exchanges the ID
// token for a session (RFC 8693), and the session buys access tokens for
// exactly the identity's repositories.
func TestExchangeWithIndependentProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an external OIDC provider")
	}
	issuer := zitadeltest.Start(t)
	srv := startServerWith(t, fmt.Sprintf(`    - id: zitadel-user
      issuer: %s
      subject: %s
      audience: %s
      roles: [{role: pusher, repositories: ["team/*"]}]
`, issuer, zitadeltest.Subject, zitadeltest.Client))
	idToken, _ := zitadeltest.Login(t, issuer)

	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {idToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
	}
	resp, err := http.PostForm(srv.URL()+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		AccessToken string `json:"access_token"`
		Identity    string `json:"identity"`
		Error       string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&ex)
	resp.Body.Close()
	if resp.StatusCode != 200 || ex.Identity != "zitadel-user" || ex.AccessToken == "" {
		t.Fatalf("exchange = %d %+v; registry log:\n%s", resp.StatusCode, ex, tail(srv.out.String(), 3000))
	}

	push := tokenAs(t, srv, ex.AccessToken, "repository:team/app:pull,push", "repository:other/app:pull,push")
	for repo, want := range map[string]int{"team/app": 202, "other/app": 401} {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+"/v2/"+repo+"/blobs/uploads/", nil)
		req.Header.Set("Authorization", "Bearer "+push)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("push to %s with the zitadel user's token = %d, want %d", repo, resp.StatusCode, want)
		}
	}
}
