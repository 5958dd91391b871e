package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// TestEventLog pushes twice to one tag and pulls with go-containerregistry
// against a real server, then reads the server's event log: every blob and
// manifest push with its actor and the tag's previous digest, the pull with
// its user agent, and a failed pull of an unknown tag.
func TestEventLog(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	owner := &authn.Basic{Username: "e2e", Password: srv.Token(t)}
	ref := (&replicas{}).ref(t, srv, "acme/app:v1")
	first, second := mustRandomImage(t), mustRandomImage(t)
	for _, img := range []v1.Image{first, second} {
		if err := remote.Write(ref, img, remote.WithAuth(owner), remote.WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := remote.Image(ref, remote.WithAuth(owner), remote.WithContext(ctx), remote.WithUserAgent("e2e-puller")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL()+"/v2/acme/app/manifests/nope", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken(t, srv, "repository:acme/app:pull"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("GET of an unknown tag = %v, %v", resp, err)
	}

	db, err := sqlite.Open(ctx, filepath.Join(srv.DataDir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var log []store.Event
	deadline := time.Now().Add(10 * time.Second)
	for {
		if log, err = db.EventsAfter(ctx, 0, 1000); err != nil {
			t.Fatal(err)
		}
		// The unknown tag's failed pull was recorded last; a failed HEAD
		// of a push's (see below) may have been flushed long before it.
		if slices.ContainsFunc(log, func(e store.Event) bool { return e.Failed && e.Subject == "acme/app:nope" }) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	var manifestPushes, blobPushes, pulls, failures int
	for _, e := range log {
		var d events.Data
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if e.Source != srv.URL() {
			t.Errorf("event source %q, want %q", e.Source, srv.URL())
		}
		switch {
		case e.Type == events.TypePush && d.Type == events.KindManifest:
			manifestPushes++
			if d.Actor.Key() != "identity:e2e" || d.Actor.Subject != "e2e" || e.Subject != "acme/app:v1" {
				t.Errorf("manifest push = %s %+v", e.Subject, d)
			}
			if d.Digest == d2.String() && d.Previous != d1.String() {
				t.Errorf("second push's previous = %q, want %s", d.Previous, d1)
			}
		case e.Type == events.TypePush && d.Type == events.KindBlob:
			blobPushes++
		case e.Type == events.TypePull && strings.Contains(d.UserAgent, "e2e-puller"):
			pulls++
			if d.Error != nil || d.Method != "GET" || d.Digest != d2.String() || d.Actor.Key() != "identity:e2e" {
				t.Errorf("pull = %+v, want a GET of %s by e2e", d, d2)
			}
		case e.Type == events.TypePull && e.Subject == "acme/app:nope":
			failures++
			if d.Error == nil || d.Error.Status != 404 || d.Error.Code != "MANIFEST_UNKNOWN" {
				t.Errorf("failed pull = %s %+v", e.Subject, d)
			}
		}
		// A push HEADs the tag first: a pull, failed (404) the first time.
	}
	// Each random image is a config and one layer: two blobs.
	if manifestPushes != 2 || blobPushes != 4 || pulls != 1 || failures != 1 {
		t.Errorf("event log: %d manifest pushes, %d blob pushes, %d pulls, %d failures; want 2, 4, 1, 1", manifestPushes, blobPushes, pulls, failures)
	}
}
