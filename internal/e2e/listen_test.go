package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/events"
)

// TestEventsListen is the events flow as a user runs it, all real
// processes: `chainctl events listen` as the sink, a subscription made
// with the CLI, crane pushing twice to one tag and pulling, a denied push
// and an unknown tag; the listener prints each verified event as a JSON
// line.
func TestEventsListen(t *testing.T) {
	crane := requireTool(t, "crane")
	srv, h, ctx := loggedIn(t, 2*time.Minute, "--dev")

	addr := freeAddr(t)
	listen := exec.CommandContext(ctx, chainctlBin, "events", "listen", "--addr", addr, "--registry", srv.Addr)
	listen.Env, listen.Dir = h.env, h.root
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
	var got []map[string]any
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("listen printed %q, not a JSON line: %v", sc.Text(), err)
				continue
			}
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}
	}()
	if !waitOutput(&stderr, "subscriptions create", 20*time.Second) {
		t.Fatalf("listen did not start:\n%s", stderr.String())
	}
	h.must(ctx, "", chainctlBin, "events", "subscriptions", "create", "http://"+addr+"/", "--registry", srv.Addr,
		"--type", "push,pull", "--repository", "acme/*")

	// crane logs in as the e2e identity (owner of everything), pushes
	// twice to acme/app:v1, pulls; then a push to a repository it may not
	// push (a pull-only credential) and a pull of an unknown tag.
	env := append(h.env, "DOCKER_CONFIG="+t.TempDir())
	runTool(t, ctx, env, crane, "auth", "login", srv.Addr, "-u", "e2e", "-p", srv.Token(t))
	ref := srv.Addr + "/acme/app:v1"
	runTool(t, ctx, env, crane, "append", "-f", imageTar(t), "-t", ref)
	first := strings.TrimSpace(runTool(t, ctx, env, crane, "digest", ref))
	runTool(t, ctx, env, crane, "append", "-f", imageTar(t), "-t", ref)
	second := strings.TrimSpace(runTool(t, ctx, env, crane, "digest", ref))
	runTool(t, ctx, env, crane, "manifest", ref)
	nope := exec.CommandContext(ctx, crane, "manifest", srv.Addr+"/acme/app:nope")
	nope.Env = env
	if out, err := nope.CombinedOutput(); err == nil {
		t.Fatalf("crane manifest of an unknown tag succeeded: %s", out)
	}
	req, _ := http.NewRequestWithContext(ctx, "PUT", srv.URL()+"/v2/acme/app/manifests/denied", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+accessToken(t, srv, "repository:acme/app:pull"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a push with a pull-only token = %v, %v", resp, err)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	find := func(match func(typ, subject string, d events.Data) bool) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range got {
			b, _ := json.Marshal(ev["data"])
			var d events.Data
			_ = json.Unmarshal(b, &d)
			typ, _ := ev["type"].(string)
			subject, _ := ev["subject"].(string)
			if match(typ, subject, d) {
				return true
			}
		}
		return false
	}
	checks := map[string]func(typ, subject string, d events.Data) bool{
		"the second push, with the first as previous": func(typ, subject string, d events.Data) bool {
			return typ == events.TypePush && subject == "acme/app:v1" && d.Digest == second && d.Previous == first && d.Actor.Key() == "identity:e2e"
		},
		"crane's pull, with its user agent": func(typ, subject string, d events.Data) bool {
			return typ == events.TypePull && d.Method == "GET" && d.Digest == second && strings.Contains(d.UserAgent, "crane") && d.Error == nil
		},
		"the unknown tag, failed": func(typ, subject string, d events.Data) bool {
			return typ == events.TypePull && subject == "acme/app:nope" && d.Error != nil && d.Error.Status == 404
		},
		"the denied push, failed": func(typ, subject string, d events.Data) bool {
			return typ == events.TypePush && subject == "acme/app:denied" && d.Error != nil && d.Error.Status == 401
		},
	}
	deadline := time.Now().Add(20 * time.Second)
	for name, check := range checks {
		for !find(check) {
			if time.Now().After(deadline) {
				t.Fatalf("listen printed no event for %s; stderr:\n%s", name, stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if strings.Contains(stderr.String(), "refused a delivery") {
		t.Errorf("listen refused a delivery:\n%s", stderr.String())
	}
	out := h.must(ctx, "", chainctlBin, "events", "subscriptions", "list", "--registry", srv.Addr, "-o", "json")
	if !strings.Contains(out, `"last_success"`) {
		t.Errorf("subscriptions list shows no delivery: %s", out)
	}
}
