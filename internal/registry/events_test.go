package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/registry"
)

// TestEvents drives pushes, pulls and failures through the registry and
// reads back the event log: a push's event (with the tag's previous digest)
// committed with it, pulls and failures recorded by the recorder.
func TestEvents(t *testing.T) {
	r := newRecording(t, events.WithBatching(time.Hour, 1000, 1000))
	authz := &denyRepos{deny: []string{"locked/app"}}
	h, err := registry.New(registry.WithBlobStore(r.blobs), registry.WithMetadata(r.meta), registry.WithAuthorizer(authz), registry.WithEvents(r.rec))
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
	m1, m2 := manifest(1), manifest(2)
	ua := map[string]string{"X-Test-As": "ci", "User-Agent": "test-client/1.0", "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
	for _, c := range []call{
		{name: "blob", method: "POST", path: "/v2/acme/app/blobs/uploads/?digest=" + ld.String(), body: layer, header: ua, status: 201},
		{name: "push v1", method: "PUT", path: "/v2/acme/app/manifests/v1", body: m1, header: ua, status: 201},
		{name: "push v1 again", method: "PUT", path: "/v2/acme/app/manifests/v1", body: m2, header: ua, status: 201},
		{name: "pull by tag", method: "GET", path: "/v2/acme/app/manifests/v1", header: ua, status: 200},
		{name: "head by digest", method: "HEAD", path: "/v2/acme/app/manifests/" + digest.FromString(m1).String(), header: ua, status: 200},
		{name: "unknown tag", method: "GET", path: "/v2/acme/app/manifests/nope", header: ua, status: 404},
		{name: "denied push", method: "PUT", path: "/v2/locked/app/manifests/v1", body: m1, header: ua, status: 401},
		{name: "blob pull, not recorded by default", method: "GET", path: "/v2/acme/app/blobs/" + ld.String(), header: ua, status: 200},
		{name: "tags list, not an event", method: "GET", path: "/v2/acme/app/tags/list", header: ua, status: 200},
	} {
		c.run(t, srv.URL)
	}
	r.stop()

	log, err := r.meta.EventsAfter(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	byLine := map[string]events.Data{}
	for _, e := range log {
		var d events.Data
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		status := "ok"
		if d.Error != nil {
			status = fmt.Sprint(d.Error.Status, " ", d.Error.Code)
		}
		line := fmt.Sprintf("%s %s %s %s %s", strings.TrimPrefix(e.Type, "dev.chainctl.registry."), d.Method, d.Type, e.Subject, status)
		got = append(got, line)
		byLine[line] = d
		if e.Source != "https://registry.test" || d.UserAgent != "test-client/1.0" || d.RemoteAddr != "127.0.0.1" {
			t.Errorf("event %s: source %q, user agent %q, remote %q", line, e.Source, d.UserAgent, d.RemoteAddr)
		}
	}
	// Pushes are in the log when they commit; pulls and failures when the
	// recorder flushes, at shutdown here: pushes first.
	want := []string{
		"push.v1 POST blob acme/app@" + ld.String() + " ok",
		"push.v1 PUT manifest acme/app:v1 ok",
		"push.v1 PUT manifest acme/app:v1 ok",
		"pull.v1 GET manifest acme/app:v1 ok",
		"pull.v1 HEAD manifest acme/app@" + digest.FromString(m1).String() + " ok",
		"pull.v1 GET manifest acme/app:nope 404 MANIFEST_UNKNOWN",
		"push.v1 PUT manifest locked/app:v1 401 UNAUTHORIZED",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("event log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	second := log[2]
	var d events.Data
	_ = json.Unmarshal(second.Data, &d)
	if d.Previous != digest.FromString(m1).String() || d.Digest != digest.FromString(m2).String() || d.Actor.Key() != "identity:ci" || second.Actor != "identity:ci" {
		t.Errorf("second push = %+v, want previous %s, actor ci", d, digest.FromString(m1))
	}
	pull := byLine["pull.v1 GET manifest acme/app:v1 ok"]
	if pull.Digest != digest.FromString(m2).String() || pull.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("pull = %+v, want the digest and media type served", pull)
	}
}
