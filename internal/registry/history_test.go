package registry_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/registry"
)

// TestTagHistory pushes a tag three times (once refused) and reads its
// history through the registry: each move with who made it, newest
// first, answered only to a caller who may pull the repository.
func TestTagHistory(t *testing.T) {
	r := newRecording(t)
	authz := &denyRepos{}
	h, err := registry.New(registry.WithBlobStore(r.blobs), registry.WithMetadata(r.meta), registry.WithAuthorizer(authz),
		registry.WithEvents(r.rec), registry.WithTagHistory(events.NewLog(r.meta)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	layer := "layer bytes"
	ld := digest.FromString(layer)
	manifest := func(n int) string {
		return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[],"annotations":{"n":"%d"}}`, ld, len(layer), n)
	}
	as := func(who string) map[string]string {
		return map[string]string{"X-Test-As": who, "User-Agent": "pusher/" + who, "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
	}
	for _, c := range []call{
		{method: "POST", path: "/v2/acme/app/blobs/uploads/?digest=" + ld.String(), body: layer, header: as("ci"), status: 201},
		{method: "PUT", path: "/v2/acme/app/manifests/latest", body: manifest(1), header: as("ci"), status: 201},
		{method: "PUT", path: "/v2/acme/app/manifests/" + digest.FromString(manifest(9)).String(), body: manifest(9), header: as("ci"), status: 201},
		{method: "PUT", path: "/v2/acme/app/manifests/other", body: manifest(3), header: as("ci"), status: 201},
		{method: "PUT", path: "/v2/acme/app/manifests/latest", body: manifest(2), header: as("alice"), status: 201},
	} {
		c.run(t, srv.URL)
	}
	authz.setDeny("acme/app")
	call{method: "PUT", path: "/v2/acme/app/manifests/latest", body: manifest(4), header: as("mallory"), status: 401}.run(t, srv.URL)
	authz.setDeny()
	authz.asked()

	var body struct {
		Name, Tag string
		History   []events.TagMove
	}
	get := func(path string, header map[string]string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 {
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
		}
		return resp.StatusCode
	}
	if code := get("/v2/acme/app/_chainctl/history/latest", as("bob")); code != 200 {
		t.Fatalf("GET history = %d", code)
	}
	if got := authz.asked(); len(got) != 1 || got[0] != "repository:acme/app:pull" {
		t.Errorf("authorized as %v, want a pull of acme/app", got)
	}
	d1, d2 := digest.FromString(manifest(1)).String(), digest.FromString(manifest(2)).String()
	if body.Name != "acme/app" || body.Tag != "latest" || len(body.History) != 2 {
		t.Fatalf("history = %+v, want the two accepted pushes of latest", body)
	}
	newest, first := body.History[0], body.History[1]
	if newest.Digest != d2 || newest.Previous != d1 || newest.ActorKey != "identity:alice" || newest.UserAgent != "pusher/alice" ||
		first.Digest != d1 || first.Previous != "" || first.ActorKey != "identity:ci" || first.RemoteAddr != "127.0.0.1" {
		t.Errorf("history = %+v", body.History)
	}
	if w1, w2 := parseTime(t, first.When), parseTime(t, newest.When); !w1.Before(w2) || time.Since(w2) > time.Minute {
		t.Errorf("when: %s then %s", first.When, newest.When)
	}

	for _, c := range []call{
		{name: "a tag never pushed", method: "GET", path: "/v2/acme/app/_chainctl/history/nope", status: 200, body2: `{"name":"acme/app","tag":"nope","history":[]}`},
		{name: "an invalid tag", method: "GET", path: "/v2/acme/app/_chainctl/history/-x", status: 400, code: "TAG_INVALID"},
		{name: "an invalid name", method: "GET", path: "/v2/Acme/_chainctl/history/latest", status: 400, code: "NAME_INVALID"},
		{name: "not a write", method: "DELETE", path: "/v2/acme/app/_chainctl/history/latest", status: 405, code: "UNSUPPORTED"},
	} {
		c.run(t, srv.URL)
	}
	authz.setDeny("acme/app")
	call{name: "a caller who may not pull", method: "GET", path: "/v2/acme/app/_chainctl/history/latest", status: 401, code: "UNAUTHORIZED"}.run(t, srv.URL)

	// Without a history source the route does not exist.
	plain := newServer(t)
	call{name: "no history", method: "GET", path: "/v2/acme/app/_chainctl/history/latest", status: 404, code: "NOT_FOUND"}.run(t, plain.URL)
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
