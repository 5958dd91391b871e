package registry_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/principal"
	"github.com/chainctl/chainctl/internal/registry"
)

// denyRepos refuses every access to the listed repositories and records
// what was asked. The principal is the identity the X-Test-As header
// names, anonymous without one.
type denyRepos struct {
	mu     sync.Mutex
	deny   []string
	access []string
}

func (d *denyRepos) Authorize(r *http.Request, a policy.Access, _ ...policy.Access) (principal.Principal, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.access = append(d.access, a.Type+":"+a.Name+":"+strings.Join(a.Actions, ","))
	if slices.Contains(d.deny, a.Name) {
		return principal.Principal{}, &registry.Error{Status: 401, Code: "UNAUTHORIZED", Message: "authentication required",
			Header: http.Header{"Www-Authenticate": {`Bearer realm="test"`}}}
	}
	var p principal.Principal
	if as := r.Header.Get("X-Test-As"); as != "" {
		p.Identities = []principal.Identity{{ID: as, Incarnation: "1"}}
	}
	return p, nil
}

func (d *denyRepos) setDeny(repos ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deny = repos
}

func (d *denyRepos) asked() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.access
	d.access = nil
	return out
}

func TestAuthorizerGuardsEveryRoute(t *testing.T) {
	authz := &denyRepos{deny: []string{"secret"}}
	srv := newServer(t, registry.WithAuthorizer(authz))
	call{method: "POST", path: "/v2/secret/blobs/uploads/?digest=" + sha("s"), body: "s", status: 401, code: "UNAUTHORIZED",
		want: map[string]string{"Www-Authenticate": `Bearer realm="test"`}}.run(t, srv.URL)
	call{method: "POST", path: "/v2/open/blobs/uploads/?digest=" + sha("o"), body: "o", status: 201}.run(t, srv.URL)
	authz.asked()

	tests := []struct {
		method, path string
		want         string
	}{
		{"GET", "/v2/", "registry::"},
		{"GET", "/v2/_catalog", "registry:catalog:*"},
		{"GET", "/v2/open/blobs/" + sha("o"), "repository:open:pull"},
		{"HEAD", "/v2/open/manifests/latest", "repository:open:pull"},
		{"PUT", "/v2/open/manifests/latest", "repository:open:push"},
		{"DELETE", "/v2/open/manifests/latest", "repository:open:delete"},
		{"DELETE", "/v2/open/blobs/" + sha("x"), "repository:open:delete"},
		{"POST", "/v2/open/blobs/uploads/", "repository:open:push"},
		{"PATCH", "/v2/open/blobs/uploads/x", "repository:open:push"},
		{"GET", "/v2/open/tags/list", "repository:open:pull"},
		{"GET", "/v2/open/referrers/" + sha("o"), "repository:open:pull"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := authz.asked(); len(got) == 0 || got[0] != tt.want {
				t.Errorf("%s %s asked %v, want first %s", tt.method, tt.path, got, tt.want)
			}
		})
	}

	// A mount is answered 201 only from a repository the caller may read.
	authz.setDeny()
	call{method: "POST", path: "/v2/secret/blobs/uploads/?digest=" + sha("s"), body: "s", status: 201}.run(t, srv.URL)
	authz.setDeny("secret")
	call{method: "POST", path: "/v2/other/blobs/uploads/?mount=" + sha("s") + "&from=secret", status: 202}.run(t, srv.URL)
	call{method: "POST", path: "/v2/other/blobs/uploads/?mount=" + sha("s"), status: 202}.run(t, srv.URL)
	call{method: "HEAD", path: "/v2/other/blobs/" + sha("s"), status: 404}.run(t, srv.URL)
	call{method: "POST", path: "/v2/other/blobs/uploads/?mount=" + sha("o"), status: 201}.run(t, srv.URL)
}
