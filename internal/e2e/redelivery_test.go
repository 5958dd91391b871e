package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
)

// TestRedelivery is a receiver that lost what it was sent: after two
// pushes were delivered to it, it is replaced by one that knows nothing,
// and `chainctl events redeliver --since` sends it both events again, each
// once and with its original id; `chainctl events deliveries` shows them
// delivered and redelivered.
func TestRedelivery(t *testing.T) {
	crane := requireTool(t, "crane")
	srv, h, ctx := loggedIn(t, 3*time.Minute, "--dev")
	h.must(ctx, "", chainctlBin, "auth", "configure-docker", "--registry", srv.Addr)

	addr := freeAddr(t)
	first := newReceiverAt(t, srv.URL(), addr)
	out := h.must(ctx, "", chainctlBin, "events", "subscriptions", "create", first.url(), "--type", "push", "--repository", "acme/*",
		"--registry", srv.Addr, "-o", "json")
	var sub struct{ ID string }
	if err := json.Unmarshal([]byte(out), &sub); err != nil || sub.ID == "" {
		t.Fatalf("subscriptions create printed %q (%v)", out, err)
	}
	h.must(ctx, "", crane, "append", "-f", imageTar(t), "-t", srv.Addr+"/acme/app:v1")
	h.must(ctx, "", crane, "append", "-f", imageTar(t), "-t", srv.Addr+"/acme/app:v2")

	manifestPushes := func(r *receiver) []string {
		var ids []string
		for _, e := range r.events() {
			if e.typ == events.TypePush && e.data.Type == events.KindManifest {
				ids = append(ids, e.id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	waitFor(t, 20*time.Second, "both pushes delivered", func() bool { return len(manifestPushes(first)) == 2 })
	// The blobs' push events may still be on their way: the receiver has
	// all the subscription took once the registry lists every delivery of
	// them delivered.
	waitFor(t, 20*time.Second, "every delivery made", func() bool {
		out := h.must(ctx, "", chainctlBin, "events", "deliveries", sub.ID, "--registry", srv.Addr, "-o", "json")
		var list []struct{ State string }
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("deliveries printed %q: %v", out, err)
		}
		return !slices.ContainsFunc(list, func(d struct{ State string }) bool { return d.State != "delivered" }) &&
			len(first.events()) == len(list)
	})
	all := first.events()
	first.srv.Close()

	second := newReceiverAt(t, srv.URL(), addr)
	out = h.must(ctx, "", chainctlBin, "events", "redeliver", sub.ID, "--since", "1h", "--registry", srv.Addr, "-o", "json")
	var res struct{ Queued int }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Queued != len(all) {
		t.Fatalf("redeliver printed %q (%v), want %d queued: every event the subscription took", out, err, len(all))
	}
	waitFor(t, 20*time.Second, "the events delivered again", func() bool { return len(second.events()) == len(all) })
	time.Sleep(time.Second) // and not more than once
	var want, got []string
	for _, e := range all {
		want = append(want, e.id)
	}
	for _, e := range second.events() {
		got = append(got, e.id)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("redelivered ids %q, want each of the original ids once: %q", got, want)
	}

	out = h.must(ctx, "", chainctlBin, "events", "deliveries", sub.ID, "--registry", srv.Addr, "-o", "json")
	var list []struct{ Event, State, Redelivered string }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != len(all) {
		t.Fatalf("deliveries printed %q (%v), want %d", out, err, len(all))
	}
	for _, d := range list {
		if d.State != "delivered" || d.Redelivered == "" || !slices.Contains(want, d.Event) {
			t.Errorf("delivery %+v: want one of the events, delivered again", d)
		}
	}
	if failed := h.must(ctx, "", chainctlBin, "events", "deliveries", sub.ID, "--failed", "--registry", srv.Addr, "-o", "json"); strings.TrimSpace(failed) != "[]" {
		t.Errorf("deliveries --failed = %s, want none", failed)
	}
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
