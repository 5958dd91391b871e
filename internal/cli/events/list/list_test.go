package list

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/eventlog"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdList(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string // the query the filter asks for
		wantErr bool
	}{
		{name: "no filter", want: ""},
		{name: "all of them", args: []string{"--repository", "acme/*", "--type", "pull", "--since", "24h", "--until", "2026-05-04",
			"--actor", "pt-1", "--failed"},
			want: "actor=pt-1&outcome=failed&repository=acme%2F%2A&since=24h&type=pull&until=2026-05-04"},
		{name: "both types is no type", args: []string{"--type", "push,pull"}, want: ""},
		{name: "bad type", args: []string{"--type", "delete"}, wantErr: true},
		{name: "bad since", args: []string{"--since", "yesterday"}, wantErr: true},
		{name: "bad limit", args: []string{"--limit", "0"}, wantErr: true},
		{name: "argument", args: []string{"x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ListOptions
			cmd := NewCmdList(apitest.Factory(ios, "", nil), func(_ context.Context, o *ListOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if !tt.wantErr && got.Filter.Values().Encode() != tt.want {
				t.Errorf("query = %q, want %q", got.Filter.Values().Encode(), tt.want)
			}
		})
	}
}

const page1 = `{"events":[
 {"id":"e2","type":"pull","time":"2026-05-04T09:00:02Z","repository":"acme/app","tag":"v1","digest":"sha256:0123456789abcdef0123","kind":"manifest",
  "remote_addr":"192.0.2.7","user_agent":"crane/0.22","actor":{"pull_token":"pt-1"},"actor_key":"pull-token:pt-1","outcome":"succeeded"}],
 "next_cursor":"c1"}`
const page2 = `{"events":[
 {"id":"e1","type":"pull","time":"2026-05-04T09:00:01Z","repository":"acme/app","tag":"nope\u001b[31m","kind":"manifest",
  "actor":{"anonymous":true},"actor_key":"anonymous","outcome":"failed","error":{"status":401,"code":"UNAUTHORIZED","message":"x"}}]}`

func Test_listRun(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(map[bool]string{true: "terminal", false: "piped"}[tty], func(t *testing.T) {
			reg := apitest.New(t,
				apitest.Stub{Method: "GET", Path: "/api/v1/events?limit=10&repository=acme%2F%2A", Status: 200, Body: page1},
				apitest.Stub{Method: "GET", Path: "/api/v1/events?cursor=c1&limit=9&repository=acme%2F%2A", Status: 200, Body: page2},
			)
			ios, _, out, _ := iostreams.Test()
			ios.SetStdoutTTY(tty)
			opts := &ListOptions{Remote: reg.Remote(ios, cmdutil.OutputTable), Filter: filterOf("acme/*"), Limit: 10, Now: time.Now}
			if err := listRun(t.Context(), opts); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if !tty {
				lines := strings.Split(strings.TrimSpace(got), "\n")
				if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"id":"e2"`) || !strings.Contains(lines[0], `"user_agent":"crane/0.22"`) {
					t.Errorf("JSON lines = %q", got)
				}
				return
			}
			for _, want := range []string{"WHEN", "TAG/DIGEST", "acme/app", "v1 sha256:0123456789ab", "pull-token:pt-1", "192.0.2.7",
				"succeeded", "failed: 401 UNAUTHORIZED", "anonymous"} {
				if !strings.Contains(got, want) {
					t.Errorf("table lacks %q:\n%s", want, got)
				}
			}
			if strings.Contains(got, "\x1b[31m") {
				t.Errorf("a tag's escape sequence reached the terminal: %q", got)
			}
		})
	}
}

// Test_follow prints the latest events, then only the new ones of each
// poll, oldest first, however often a poll sees them again.
func Test_follow(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 0, 10, 0, time.UTC)
	const polled = `{"events":[{"id":"e3","type":"push","time":"2026-05-04T09:00:05Z","repository":"acme/app","actor_key":"identity:ci","outcome":"succeeded"},
 {"id":"e2","type":"pull","time":"2026-05-04T09:00:02Z","repository":"acme/app","actor_key":"pull-token:pt-1","outcome":"succeeded"}]}`
	var mu sync.Mutex
	var sinces []string
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		body := page1
		if s := q.Get("since"); s != "" {
			mu.Lock()
			sinces = append(sinces, s)
			mu.Unlock()
			body = polled
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	ios, _, out, _ := iostreams.Test()
	ctx, cancel := context.WithCancel(t.Context())
	remote := api.Remote{IO: ios, Output: cmdutil.OutputJSON, Registry: apitest.URL, Token: apitest.TokenSource,
		HTTPClient: func() (*http.Client, error) { return &http.Client{Transport: rt}, nil }}
	opts := &ListOptions{Remote: remote, Filter: filterOf("acme/*"), Limit: 1, Follow: true,
		Interval: 5 * time.Millisecond, Now: func() time.Time { return now }}
	done := make(chan error)
	go func() { done <- listRun(ctx, opts) }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(sinces)
		mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"id":"e2"`) || !strings.Contains(lines[1], `"id":"e3"`) {
		t.Errorf("followed = %q, want e2 then e3 once each", lines)
	}
	// Each poll looks back followLag from the newest event printed.
	if want := time.Date(2026, 5, 4, 9, 0, 2, 0, time.UTC).Add(-followLag).Format(time.RFC3339Nano); sinces[0] != want {
		t.Errorf("first poll since %s, want %s", sinces[0], want)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func filterOf(repo string) eventlog.Filter { return eventlog.Filter{Repository: repo} }
