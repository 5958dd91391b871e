package list

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdList(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		output       cmdutil.OutputFormat
		wantRegistry string
		wantErr      bool
	}{
		{name: "table", wantRegistry: apitest.URL},
		{name: "json, registry flag", args: []string{"--registry", "r.example.com"}, output: cmdutil.OutputJSON, wantRegistry: "https://r.example.com"},
		{name: "argument", args: []string{"sub-x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ListOptions
			cmd := NewCmdList(apitest.Factory(ios, tt.output, nil), func(_ context.Context, o *ListOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if !tt.wantErr && (got.Registry != tt.wantRegistry || got.Output != tt.output) {
				t.Errorf("Registry, Output = %q, %q, want %q, %q", got.Registry, got.Output, tt.wantRegistry, tt.output)
			}
		})
	}
}

const listBody = `{"subscriptions":[
	{"id":"sub-aaaaaaaaaaaaaaaaaaaa","sink":"https://hooks.example.com/registry","types":["push","pull"],"repositories":["acme/*","base"],
	 "creator":"alice","created":"2026-12-01T00:00:00Z","disabled":false,
	 "health":{"last_success":"2026-12-07T14:00:00Z","pending":0,"failed":0}},
	{"id":"sub-bbbbbbbbbbbbbbbbbbbb","sink":"https://old.example.com/x","types":["dev.chainctl.registry.push.v1"],"repositories":["team/app"],
	 "creator":"bob","created":"2026-12-02T00:00:00Z","disabled":true,"disabled_reason":"the sink answered 410 Gone",
	 "health":{"last_error":"410 Gone\n\u001b[31mbye","last_error_at":"2026-12-06T09:30:00Z","pending":0,"failed":2}},
	{"id":"sub-cccccccccccccccccccc","sink":"https://slow.example.com/","types":["pull"],"repositories":["*"],"disabled":false,
	 "health":{"last_error":"timeout","last_error_at":"2026-12-07T13:00:00Z","pending":17,"failed":0}}]}`

func Test_listRun(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		status     int
		output     cmdutil.OutputFormat
		tty        bool
		want       string
		wantStderr string
		wantErr    string
		wantAuth   bool
		wantStyle  bool
	}{
		{name: "table", body: listBody, status: 200, want: "" +
			"ID                        SINK                                TYPES      REPOSITORIES  STATUS                                PENDING  FAILED  LAST SUCCESS          LAST ERROR\n" +
			"sub-aaaaaaaaaaaaaaaaaaaa  https://hooks.example.com/registry  push,pull  acme/*,base   active                                0        0       2026-12-07T14:00:00Z  -\n" +
			"sub-bbbbbbbbbbbbbbbbbbbb  https://old.example.com/x           push       team/app      disabled: the sink answered 410 Gone  0        2       never                 2026-12-06T09:30:00Z 410 Gone [31mbye\n" +
			"sub-cccccccccccccccccccc  https://slow.example.com/           pull       *             active                                17       0       never                 2026-12-07T13:00:00Z timeout\n"},
		{name: "table on a terminal is styled", body: listBody, status: 200, tty: true, wantStyle: true},
		{name: "json is the registry's objects", body: `{"subscriptions":[{"id":"sub-aaaaaaaaaaaaaaaaaaaa","health":{"pending":1,"failed":0},"future":true}]}`,
			status: 200, output: cmdutil.OutputJSON, want: `[
  {
    "id": "sub-aaaaaaaaaaaaaaaaaaaa",
    "health": {
      "pending": 1,
      "failed": 0
    },
    "future": true
  }
]
`},
		{name: "json empty is an array", body: `{"subscriptions":null}`, status: 200, output: cmdutil.OutputJSON, want: "[]\n"},
		{name: "empty table says so on stderr", body: `{"subscriptions":[]}`, status: 200,
			wantStderr: "No subscriptions; create one with `chainctl events subscriptions create SINK --repository PATTERN`\n"},
		{name: "unauthorized", body: `{"error":"unauthorized","message":"bad token"}`, status: 401, wantErr: "the registry refused the session token: bad token", wantAuth: true},
		{name: "registry without events", body: `404 page not found`, status: 404, wantErr: "this registry has no events API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "GET", Path: "/api/v1/subscriptions", Status: tt.status, Body: tt.body})
			ios, _, out, errOut := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			err := listRun(t.Context(), &ListOptions{Remote: reg.Remote(ios, tt.output)})
			if tt.wantErr != "" {
				var ae *cmdutil.AuthError
				if err == nil || err.Error() != tt.wantErr || errors.As(err, &ae) != tt.wantAuth {
					t.Fatalf("listRun() = %v (%T), want %q, AuthError %v", err, err, tt.wantErr, tt.wantAuth)
				}
				return
			}
			if err != nil {
				t.Fatalf("listRun() = %v", err)
			}
			if !tt.tty && out.String() != tt.want {
				t.Errorf("output =\n%s\nwant\n%s", out, tt.want)
			}
			if errOut.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", errOut, tt.wantStderr)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tt.wantStyle {
				t.Errorf("styled = %v, want %v", got, tt.wantStyle)
			}
		})
	}
}
