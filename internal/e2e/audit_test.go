package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
)

// TestAuditLog pushes a tag twice and pulls it with crane through the
// credential helper against a real server, then reads them back with
// `chainctl events list` and `chainctl registry history`: exactly those
// pushes, with the actor, address and user agent crane's requests had.
func TestAuditLog(t *testing.T) {
	crane := requireTool(t, "crane")
	srv, h, ctx := loggedIn(t, 3*time.Minute)
	h.must(ctx, "", chainctlBin, "auth", "configure-docker", "--registry", srv.Addr)

	ref := srv.Addr + "/acme/app:v1"
	h.must(ctx, "", crane, "append", "-f", imageTar(t), "-t", ref)
	first := strings.TrimSpace(h.must(ctx, "", crane, "digest", ref))
	h.must(ctx, "", crane, "mutate", ref, "--label", "audit=second", "-t", ref)
	second := strings.TrimSpace(h.must(ctx, "", crane, "digest", ref))
	if first == second || !strings.HasPrefix(second, "sha256:") {
		t.Fatalf("digests %q then %q, want two different ones", first, second)
	}
	h.must(ctx, "", crane, "manifest", ref)

	// Pulls are written in batches: wait for crane's last one.
	var log []events.EventView
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := h.split(ctx, chainctlBin, "events", "list", "--registry", srv.Addr, "--repository", "acme/*", "--since", "1h", "--limit", "1000")
		log = log[:0]
		for line := range strings.Lines(out) {
			var e events.EventView
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("events list printed %q, want JSON lines when piped: %v", line, err)
			}
			log = append(log, e)
		}
		pulled := slices.ContainsFunc(log, func(e events.EventView) bool {
			return e.Type == "pull" && e.Method == "GET" && e.Tag == "v1" && e.Digest == second
		})
		if pulled || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var pushes []string
	pulls := 0
	for _, e := range log {
		if e.Repository != "acme/app" || e.ActorKey != "identity:e2e" || e.RemoteAddr != "127.0.0.1" || !strings.Contains(e.UserAgent, "go-containerregistry") {
			t.Errorf("event %+v: want acme/app by identity:e2e from 127.0.0.1 with crane's user agent", e)
		}
		switch {
		case e.Type == "push" && e.Kind == "manifest":
			pushes = append(pushes, e.Tag+" "+e.Digest+" after "+e.Previous)
		case e.Type == "pull" && e.Outcome == "succeeded" && e.Method == "GET" && e.Digest == second:
			pulls++
		}
	}
	// Newest first.
	if want := []string{"v1 " + second + " after " + first, "v1 " + first + " after "}; !slices.Equal(pushes, want) {
		t.Errorf("manifest pushes listed = %q, want %q", pushes, want)
	}
	if pulls == 0 {
		t.Errorf("crane manifest's pull of %s is not listed:\n%+v", second, log)
	}

	out := h.must(ctx, "", chainctlBin, "registry", "history", "acme/app:v1", "--registry", srv.Addr, "-o", "json")
	var hist struct {
		Name, Tag string
		History   []events.TagMove
	}
	if err := json.Unmarshal([]byte(out), &hist); err != nil {
		t.Fatalf("registry history -o json = %q: %v", out, err)
	}
	if len(hist.History) != 2 || hist.History[0].Digest != second || hist.History[0].Previous != first || hist.History[1].Digest != first {
		t.Fatalf("history = %+v, want %s then %s", hist.History, second, first)
	}
	for _, m := range hist.History {
		if m.ActorKey != "identity:e2e" || m.RemoteAddr != "127.0.0.1" || !strings.Contains(m.UserAgent, "go-containerregistry") {
			t.Errorf("move %+v: want identity:e2e from 127.0.0.1 with crane's user agent", m)
		}
	}
	// --at the moment of the first push answers the first digest.
	out = h.must(ctx, "", chainctlBin, "registry", "history", "acme/app:v1", "--registry", srv.Addr, "--at", hist.History[1].When, "-o", "json")
	if err := json.Unmarshal([]byte(out), &hist); err != nil || len(hist.History) != 1 || hist.History[0].Digest != first {
		t.Errorf("history --at the first push = %q, want %s", out, first)
	}
	sum := h.must(ctx, "", chainctlBin, "events", "summary", "--registry", srv.Addr, "--repository", "acme/app", "-o", "json")
	var s events.Summary
	if err := json.Unmarshal([]byte(sum), &s); err != nil || len(s.Repositories) != 1 || s.Repositories[0].Pushes < 2 || s.Repositories[0].Pulls < 1 {
		t.Errorf("events summary = %s (%v)", sum, err)
	}
}
