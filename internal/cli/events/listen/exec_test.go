//go:build unix

package listen

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink/eventsinktest"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdListenExec(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantArgv    []string
		wantTimeout time.Duration
		wantErr     string
	}{
		{name: "no exec", wantTimeout: 10 * time.Minute},
		{name: "exec with quotes", args: []string{"--exec", `./deploy.sh --msg "a b" 'c$d'`, "--exec-timeout", "30s"},
			wantArgv: []string{"./deploy.sh", "--msg", "a b", "c$d"}, wantTimeout: 30 * time.Second},
		{name: "explicit shell", args: []string{"--exec", `sh -c 'echo "$CHAINCTL_EVENT_TAG" | tee x'`},
			wantArgv: []string{"sh", "-c", `echo "$CHAINCTL_EVENT_TAG" | tee x`}, wantTimeout: 10 * time.Minute},
		{name: "a pipe without a shell", args: []string{"--exec", "deploy | tee x"}, wantErr: "--exec: shell syntax without a shell"},
		{name: "a variable without a shell", args: []string{"--exec", "deploy $CHAINCTL_EVENT_TAG"}, wantErr: "expands in a shell"},
		{name: "unterminated quote", args: []string{"--exec", "deploy 'x"}, wantErr: "--exec: unterminated single quote"},
		{name: "blank", args: []string{"--exec", "  "}, wantErr: "--exec: no command"},
		{name: "zero timeout", args: []string{"--exec", "x", "--exec-timeout", "0s"}, wantErr: "--exec-timeout 0s: want a duration above 0"},
		{name: "bad type", args: []string{"--type", "push,tag"}, wantErr: `--type "tag": want push or pull`},
		{name: "bad pattern", args: []string{"--repository", "acme*"}, wantErr: "--repository: repository pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ListenOptions
			cmd := NewCmdListen(apitest.Factory(ios, "", nil), func(_ context.Context, o *ListenOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !slices.Equal(got.ExecArgv, tt.wantArgv) || got.ExecTimeout != tt.wantTimeout {
				t.Errorf("ExecArgv, ExecTimeout = %q, %v, want %q, %v", got.ExecArgv, got.ExecTimeout, tt.wantArgv, tt.wantTimeout)
			}
			if len(got.Env) == 0 {
				t.Error("Env is empty, want the listener's environment")
			}
		})
	}
}

// Test_listenRunExec: --exec runs the script for each event that passes
// the filters, once per event id, and a failure is answered 500.
func Test_listenRunExec(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	dir := t.TempDir()
	script := `echo "$CHAINCTL_EVENT_ID $CHAINCTL_EVENT_TYPE $CHAINCTL_EVENT_SUBJECT $(head -c 12)" >> "$DIR/runs"
		echo "said by $CHAINCTL_EVENT_ID"
		[ "$CHAINCTL_EVENT_REPOSITORY" != acme/fail ] || exit 3`
	l := startListenerWith(t, is.URL, false, "", func(o *ListenOptions) {
		o.ExecArgv, o.ExecTimeout = []string{"sh", "-c", script}, time.Minute
		o.Env = []string{"DIR=" + dir, "PATH=" + os.Getenv("PATH")}
		var err error
		if o.filter, err = parseFilter([]string{"push"}, []string{"acme/*"}, nil); err != nil {
			t.Fatal(err)
		}
	})
	now := time.Now()
	delivery := func(id, typ, repo string) *eventsinktest.Delivery {
		d := eventsinktest.PushData(now)
		d.Repository = repo
		if typ == events.TypePull {
			d.Method = "GET"
		}
		del := is.Delivery(t, l.sink, typ, d, now)
		del.Header.Set("Ce-Id", id)
		del.Claims.Event.ID = id
		del.Token = eventsinktest.Sign(t, is.SigningKey(), del.Claims)
		return del
	}
	for _, c := range []struct {
		name   string
		d      *eventsinktest.Delivery
		status int
		body   string
	}{
		{"push", delivery("e1", events.TypePush, "acme/app"), 204, ""},
		{"the same event again", delivery("e1", events.TypePush, "acme/app"), 204, ""},
		{"a pull, filtered out", delivery("e2", events.TypePull, "acme/app"), 204, ""},
		{"another repository, filtered out", delivery("e3", events.TypePush, "other/app"), 204, ""},
		{"the command fails", delivery("e4", events.TypePush, "acme/fail"), 500, "the command exited with status 3\n"},
		{"it fails again", delivery("e4", events.TypePush, "acme/fail"), 500, "the command exited with status 3\n"},
	} {
		if status, body := post(t, l.addr, c.d); status != c.status || body != c.body {
			t.Errorf("%s: answered %d %q, want %d %q", c.name, status, body, c.status, c.body)
		}
	}
	if err := l.stop(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "runs"))
	want := "e1 push acme/app:v1 {\"specversio\n" + "e4 push acme/fail:v1 {\"specversio\n" + "e4 push acme/fail:v1 {\"specversio\n"
	if string(b) != want {
		t.Errorf("runs =\n%s\nwant\n%s", b, want)
	}
	// Standard output has each event handled, once; the commands' output
	// and the failures are on standard error.
	lines := strings.Split(strings.TrimSuffix(l.out.String(), "\n"), "\n")
	var ev struct{ ID string }
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev.ID != "e1" {
		t.Errorf("stdout = %q, want the event e1 once", l.out.String())
	}
	stderr := l.errs.String()
	for _, want := range []string{
		"Running sh -c ", "▸ running sh for push acme/app:v1 (event e1)\n", "said by e1\n", "said by e4\n", "push acme/app:v1 handled in ",
		"push acme/fail:v1 failed after ", "the command exited with status 3: exit status 3; the registry will deliver it again\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "refused a delivery") {
		t.Errorf("a failed command was reported twice:\n%s", stderr)
	}
}
