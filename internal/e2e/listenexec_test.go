//go:build unix

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEventsListenExec is `chainctl events listen --exec` as a user runs
// it, all real processes: a script records what each push event gave it
// (variables and standard input); a script that fails the first time
// makes the registry deliver the event again, with the same id, until it
// succeeds.
func TestEventsListenExec(t *testing.T) {
	crane := requireTool(t, "crane")
	srv, h, ctx := loggedIn(t, 3*time.Minute, "--dev")

	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	script := filepath.Join(dir, "record.sh")
	// One line per manifest event: outcome, the variables, and standard input (one
	// JSON line). acme/flaky fails its first run.
	if err := os.WriteFile(script, []byte(`#!/bin/sh
[ "$CHAINCTL_EVENT_KIND" = manifest ] || exit 0 # blob uploads are push events too
line="$CHAINCTL_EVENT_TYPE $CHAINCTL_EVENT_REPOSITORY $CHAINCTL_EVENT_TAG $CHAINCTL_EVENT_DIGEST $CHAINCTL_EVENT_ID"
if [ "$CHAINCTL_EVENT_REPOSITORY" = acme/flaky ] && [ ! -e "$RECORD.marker" ]; then
	touch "$RECORD.marker"
	echo "fail $line" >> "$RECORD"
	echo "flaky: failing on purpose" >&2
	exit 1
fi
echo "ok $line $(cat)" >> "$RECORD"
`), 0o755); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	listen := exec.CommandContext(ctx, chainctlBin, "events", "listen", "--addr", addr, "--registry", srv.Addr,
		"--type", "push", "--repository", "acme/*", "--exec", script+" --unused-arg")
	listen.Env, listen.Dir = append(h.env, "RECORD="+record), h.root
	stdout, err := listen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	listen.Stderr = &stderr
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listen.Process.Kill(); _ = listen.Wait() }()
	var mu sync.Mutex
	var printed []string // ids of the events printed on stdout
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev struct{ ID string }
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("listen printed %q, not a JSON line: %v", sc.Text(), err)
				continue
			}
			mu.Lock()
			printed = append(printed, ev.ID)
			mu.Unlock()
		}
	}()
	if !waitOutput(&stderr, "subscriptions create", 20*time.Second) {
		t.Fatalf("listen did not start:\n%s", stderr.String())
	}
	h.must(ctx, "", chainctlBin, "events", "subscriptions", "create", "http://"+addr+"/", "--registry", srv.Addr,
		"--type", "push,pull", "--repository", "*")

	env := append(h.env, "DOCKER_CONFIG="+t.TempDir())
	runTool(t, ctx, env, crane, "auth", "login", srv.Addr, "-u", "e2e", "-p", srv.Token(t))
	// runs waits until the script recorded a line starting with prefix
	// (and n such lines), and returns them split into fields.
	runs := func(prefix string, n int, wait time.Duration) [][]string {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			var got [][]string
			b, _ := os.ReadFile(record)
			for l := range strings.Lines(string(b)) {
				if strings.HasPrefix(l, prefix) {
					got = append(got, strings.SplitN(strings.TrimSpace(l), " ", 7))
				}
			}
			if len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("the script recorded %d runs %q, want %d; record:\n%s\nlisten's stderr:\n%s", len(got), prefix, n, b, stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// A push to acme/app:v1, and a pull and a push elsewhere, which the
	// filters skip.
	ref := srv.Addr + "/acme/app:v1"
	runTool(t, ctx, env, crane, "append", "-f", imageTar(t), "-t", ref)
	digest := strings.TrimSpace(runTool(t, ctx, env, crane, "digest", ref))
	runTool(t, ctx, env, crane, "manifest", ref)
	runTool(t, ctx, env, crane, "append", "-f", imageTar(t), "-t", srv.Addr+"/other/app:v1")
	app := runs("ok push acme/app v1 ", 1, 30*time.Second)[0]
	if app[4] != digest || app[5] == "" {
		t.Fatalf("the script got %q, want push acme/app v1 %s and an id", app, digest)
	}
	var in struct {
		ID, Type, Subject string
		Data              struct{ Repository, Tag, Digest string }
	}
	if err := json.Unmarshal([]byte(app[6]), &in); err != nil {
		t.Fatalf("the script's standard input %q is not the event's JSON: %v", app[6], err)
	}
	if in.ID != app[5] || in.Type != "dev.chainctl.registry.push.v1" || in.Subject != "acme/app:v1" ||
		in.Data.Repository != "acme/app" || in.Data.Tag != "v1" || in.Data.Digest != digest {
		t.Errorf("the script's standard input = %s, want the push event %s of acme/app:v1@%s", app[6], app[5], digest)
	}

	// acme/flaky fails its first run: answered 500, so the registry
	// delivers again (backoff ~1-2 s), and the second run succeeds.
	runTool(t, ctx, env, crane, "append", "-f", imageTar(t), "-t", srv.Addr+"/acme/flaky:v1")
	failed := runs("fail push acme/flaky v1 ", 1, 30*time.Second)[0]
	ok := runs("ok push acme/flaky v1 ", 1, 60*time.Second)[0]
	if failed[5] != ok[5] || failed[5] == "" {
		t.Errorf("the failed run had event id %q, the retry %q: want the same", failed[5], ok[5])
	}
	if !strings.Contains(stderr.String(), "flaky: failing on purpose") ||
		!strings.Contains(stderr.String(), "the command exited with status 1") {
		t.Errorf("listen's stderr lacks the script's output or its failure:\n%s", stderr.String())
	}

	// Nothing else ran for a manifest: the pull and other/app were
	// filtered out, and each event ran until it succeeded, then no more.
	// Give stray deliveries a moment.
	time.Sleep(2 * time.Second)
	b, _ := os.ReadFile(record)
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("the script ran %d times, want 3 (acme/app, acme/flaky twice):\n%s", n, b)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for _, id := range printed {
		seen[id]++
	}
	if seen[app[5]] != 1 || seen[ok[5]] != 1 {
		t.Errorf("listen printed events %q, want %s and %s once each (and acme blobs')", printed, app[5], ok[5])
	}
}
