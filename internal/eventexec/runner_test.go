//go:build unix

package eventexec

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/events"
)

// testEvent is a push of repo:tag with id.
func testEvent(t *testing.T, id, repo, tag string) event.Event {
	t.Helper()
	d := events.Data{Repository: repo, Tag: tag, Digest: "sha256:" + strings.Repeat("ab", 32), Type: events.KindManifest,
		Method: "PUT", When: time.Date(2026, 12, 7, 14, 0, 1, 0, time.UTC), Actor: events.Actor{Identities: []string{"alice"}}}
	ev := event.New()
	ev.SetID(id)
	ev.SetSource("https://registry.example.com")
	ev.SetType(events.TypePush)
	ev.SetSubject(repo + ":" + tag)
	ev.SetTime(d.When)
	if err := ev.SetData(event.ApplicationJSON, d); err != nil {
		t.Fatal(err)
	}
	return ev
}

// sh is a Runner of the shell script script, whose $DIR is dir.
func sh(t *testing.T, ctx context.Context, dir, script string, opts ...Option) *Runner {
	t.Helper()
	opts = append([]Option{WithEnv([]string{"DIR=" + dir, "PATH=" + os.Getenv("PATH")})}, opts...)
	r, err := New(ctx, []string{"sh", "-c", script}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Wait)
	return r
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func TestRunEnvAndStdin(t *testing.T) {
	dir := t.TempDir()
	r := sh(t, t.Context(), dir, `env | grep '^CHAINCTL_EVENT_' | sort > "$DIR/env"; echo "LISTENER=$LISTENER" >> "$DIR/env"; cat > "$DIR/stdin"`,
		WithEnv([]string{"DIR=" + dir, "LISTENER=kept", "CHAINCTL_EVENT_TAG=inherited", "chainctl_event_x=lowercase", "PATH=" + os.Getenv("PATH")}))
	ev := testEvent(t, "ev-1", "acme/app", "v1")
	if err := r.Run(t.Context(), ev); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	want := []string{
		"CHAINCTL_EVENT_DIGEST=sha256:" + strings.Repeat("ab", 32),
		"CHAINCTL_EVENT_ERROR=",
		"CHAINCTL_EVENT_ID=ev-1",
		"CHAINCTL_EVENT_KIND=manifest",
		"CHAINCTL_EVENT_REPOSITORY=acme/app",
		"CHAINCTL_EVENT_SUBJECT=acme/app:v1",
		"CHAINCTL_EVENT_TAG=v1",
		"CHAINCTL_EVENT_TYPE=push",
		"LISTENER=kept",
	}
	if got := readLines(t, filepath.Join(dir, "env")); !slices.Equal(got, want) {
		t.Errorf("environment =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stdin, err := os.ReadFile(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(ev)
	if string(stdin) != string(wantJSON)+"\n" {
		t.Errorf("stdin = %s, want the event as a JSON line: %s", stdin, wantJSON)
	}
}

func TestEnvironFailedPull(t *testing.T) {
	ev := testEvent(t, "ev-2", "acme/app", "")
	ev.SetType(events.TypePull)
	_ = ev.SetData(event.ApplicationJSON, events.Data{Repository: "acme/app", Method: "GET", Error: &events.Error{Status: 404, Code: "MANIFEST_UNKNOWN"}})
	env := environ(nil, ev)
	for _, want := range []string{"CHAINCTL_EVENT_TYPE=pull", "CHAINCTL_EVENT_TAG=", "CHAINCTL_EVENT_DIGEST=", "CHAINCTL_EVENT_ERROR=404 MANIFEST_UNKNOWN"} {
		if !slices.Contains(env, want) {
			t.Errorf("environ() = %q, want %q in it", env, want)
		}
	}
}

func TestRunFailures(t *testing.T) {
	ev := testEvent(t, "ev-1", "acme/app", "v1")
	tests := []struct {
		name, script string
		argv         []string
		wantReason   string
	}{
		{name: "exit status", script: "echo oops >&2; exit 3", wantReason: "the command exited with status 3"},
		{name: "killed", script: "kill -9 $$", wantReason: "the command failed"},
		{name: "not found", argv: []string{"chainctl-no-such-command"}, wantReason: "the command could not start"},
		{name: "not executable", argv: []string{"/dev/null"}, wantReason: "the command could not start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := tt.argv
			if argv == nil {
				argv = []string{"sh", "-c", tt.script}
			}
			var stderr strings.Builder
			var finished error
			r, err := New(t.Context(), argv, WithOutput(nil, &stderr), WithHooks(nil, func(_ event.Event, err error, _ time.Duration) { finished = err }))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Run(t.Context(), ev)
			var e *Error
			if !errors.As(err, &e) || e.Reason != tt.wantReason {
				t.Fatalf("Run() = %v, want an *Error with reason %q", err, tt.wantReason)
			}
			if finished != err {
				t.Errorf("finished hook got %v, want %v", finished, err)
			}
			if tt.name == "exit status" && stderr.String() != "oops\n" {
				t.Errorf("the command's stderr = %q, want it passed on", stderr.String())
			}
		})
	}
}

func TestNew(t *testing.T) {
	if _, err := New(t.Context(), nil); err == nil {
		t.Error("New(no command) succeeded")
	}
	if _, err := New(t.Context(), []string{"true"}, WithTimeout(0)); err == nil {
		t.Error("New(timeout 0) succeeded")
	}
}

// TestRunTimeout: a command that outlives its timeout is killed with what
// it started in the background, and the run fails.
func TestRunTimeout(t *testing.T) {
	dir := t.TempDir()
	r := sh(t, t.Context(), dir, `(sleep 1; echo alive > "$DIR/child") & sleep 30`, WithTimeout(200*time.Millisecond))
	began := time.Now()
	err := r.Run(t.Context(), testEvent(t, "ev-1", "acme/app", "v1"))
	var e *Error
	if !errors.As(err, &e) || e.Reason != "the command timed out after 200ms" {
		t.Fatalf("Run() = %v, want a timeout", err)
	}
	if d := time.Since(began); d > 20*time.Second {
		t.Errorf("Run() returned after %v: the command was not killed", d)
	}
	time.Sleep(2 * time.Second)
	if _, err := os.Stat(filepath.Join(dir, "child")); err == nil {
		t.Error("the command's background child survived the timeout")
	}
}

// TestRunSerialPerRepository: the commands of one repository run one at
// a time in arrival order, while another repository's run meanwhile.
func TestRunSerialPerRepository(t *testing.T) {
	dir := t.TempDir()
	// A command of acme/* holds a lock directory while it runs (mkdir
	// fails if another holds it); acme/app's first waits until
	// other/app's has run, which it could not if repositories were
	// serialized together.
	r := sh(t, t.Context(), dir, `
		case "$CHAINCTL_EVENT_REPOSITORY" in
		other/*) touch "$DIR/other"; exit 0 ;;
		esac
		mkdir "$DIR/lock" || exit 9
		echo "start $CHAINCTL_EVENT_ID" >> "$DIR/log"
		if [ "$CHAINCTL_EVENT_ID" = a1 ]; then
			until [ -e "$DIR/other" ]; do sleep 0.02; done
		fi
		sleep 0.1
		echo "end $CHAINCTL_EVENT_ID" >> "$DIR/log"
		rmdir "$DIR/lock"`, WithTimeout(30*time.Second))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, id := range []string{"a1", "a2", "a3"} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = r.Run(t.Context(), testEvent(t, id, "acme/app", "v1")) }()
		eventually(t, id+" is queued", func() bool { return r.queued("acme/app") == i+1 })
	}
	errs[3] = r.Run(t.Context(), testEvent(t, "o1", "other/app", "v1"))
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	want := []string{"start a1", "end a1", "start a2", "end a2", "start a3", "end a3"}
	if got := readLines(t, filepath.Join(dir, "log")); !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	if n := r.queued("acme/app"); n != 0 {
		t.Errorf("%d runs left queued", n)
	}
}

// TestRunDedupe: deliveries of one event share its run; a success is
// remembered, a failure is not.
func TestRunDedupe(t *testing.T) {
	dir := t.TempDir()
	// Each run appends to runs, waits for $DIR/go, and fails when
	// $DIR/fail exists.
	r := sh(t, t.Context(), dir, `echo "$CHAINCTL_EVENT_ID" >> "$DIR/runs"
		until [ -e "$DIR/go" ]; do sleep 0.02; done
		[ ! -e "$DIR/fail" ]`, WithRemember(2))
	runs := func() []string { return readLines(t, filepath.Join(dir, "runs")) }
	e1 := testEvent(t, "e1", "acme/app", "v1")

	// The first delivery gives up (the registry's timeout); the second
	// waits for the same run.
	short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := r.Run(short, e1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run(a delivery that gave up) = %v, want its context's error", err)
	}
	second := make(chan error, 1)
	go func() { second <- r.Run(t.Context(), e1) }()
	eventually(t, "the command ran", func() bool { return len(runs()) == 1 })
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("Run(second delivery) = %v", err)
	}
	if err := r.Run(t.Context(), e1); err != nil {
		t.Fatalf("Run(a delivery after success) = %v", err)
	}
	if got := runs(); !slices.Equal(got, []string{"e1"}) {
		t.Errorf("runs = %q, want e1 once for three deliveries", got)
	}

	// A failed event runs again.
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e2 := testEvent(t, "e2", "acme/app", "v2")
	if err := r.Run(t.Context(), e2); err == nil {
		t.Fatal("Run(failing) = nil")
	}
	_ = os.Remove(filepath.Join(dir, "fail"))
	if err := r.Run(t.Context(), e2); err != nil {
		t.Fatalf("Run(e2 again) = %v", err)
	}
	// Two are remembered: e3 makes the runner forget e1, which then
	// runs again; e2 is still remembered.
	for _, ev := range []event.Event{testEvent(t, "e3", "acme/app", "v3"), e2, e1} {
		if err := r.Run(t.Context(), ev); err != nil {
			t.Fatalf("Run(%s) = %v", ev.ID(), err)
		}
	}
	if got, want := runs(), []string{"e1", "e2", "e2", "e3", "e1"}; !slices.Equal(got, want) {
		t.Errorf("runs = %q, want %q", got, want)
	}
}

// TestRunStopped: when the runner's context ends, the running command is
// killed, queued runs fail, and new events are refused.
func TestRunStopped(t *testing.T) {
	dir := t.TempDir()
	ctx, stop := context.WithCancel(t.Context())
	r := sh(t, ctx, dir, `touch "$DIR/started"; sleep 30`)
	errs := make(chan error, 2)
	go func() { errs <- r.Run(t.Context(), testEvent(t, "e1", "acme/app", "v1")) }()
	eventually(t, "the command started", func() bool { _, err := os.Stat(filepath.Join(dir, "started")); return err == nil })
	go func() { errs <- r.Run(t.Context(), testEvent(t, "e2", "acme/app", "v2")) }()
	eventually(t, "e2 is queued", func() bool { return r.queued("acme/app") == 2 })
	stop()
	for range 2 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), ErrStopped.Error()) {
			t.Errorf("Run() = %v, want it stopped", err)
		}
	}
	r.Wait()
	if err := r.Run(t.Context(), testEvent(t, "e3", "acme/app", "v3")); !errors.Is(err, ErrStopped) {
		t.Errorf("Run(after the end) = %v, want ErrStopped", err)
	}
}
