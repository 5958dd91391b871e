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
		wantExpired  bool
		wantRegistry string
		wantErr      bool
	}{
		{name: "live", wantRegistry: apitest.URL},
		{name: "expired too, json", args: []string{"--expired", "--registry", "r.example.com"}, output: cmdutil.OutputJSON, wantExpired: true, wantRegistry: "https://r.example.com"},
		{name: "argument", args: []string{"pt-x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, tt.output, nil)
			var got *ListOptions
			cmd := NewCmdList(f, func(_ context.Context, o *ListOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got.Expired != tt.wantExpired || got.Registry != tt.wantRegistry || got.Output != tt.output {
				t.Errorf("Expired, Registry, Output = %v, %q, %q, want %v, %q, %q", got.Expired, got.Registry, got.Output, tt.wantExpired, tt.wantRegistry, tt.output)
			}
		})
	}
}

const listBody = `{"pull_tokens":[
	{"id":"pt-aaaaaaaaaaaaaaaaaaaa","name":"prod","repositories":["acme/*","base"],"creator":"alice","created":"2026-12-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","last_used":"2026-12-06T09:30:00Z","expired":false},
	{"id":"pt-bbbbbbbbbbbbbbbbbbbb","repositories":["team/app"],"creator":"bob","created":"2026-12-02T00:00:00Z","expires":"2026-12-05T00:00:00Z","expired":true,"secret":"ccpt_must-never-be-listed"}]}`

func Test_listRun(t *testing.T) {
	tests := []struct {
		name       string
		expired    bool
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
			"ID                       NAME  REPOSITORIES  EXPIRES               LAST USED             CREATOR\n" +
			"pt-aaaaaaaaaaaaaaaaaaaa  prod  acme/*,base   2027-01-01T00:00:00Z  2026-12-06T09:30:00Z  alice\n" +
			"pt-bbbbbbbbbbbbbbbbbbbb        team/app      2026-12-05T00:00:00Z  never                 bob\n"},
		{name: "expired adds STATUS", expired: true, body: listBody, status: 200, want: "" +
			"ID                       NAME  REPOSITORIES  EXPIRES               LAST USED             CREATOR  STATUS\n" +
			"pt-aaaaaaaaaaaaaaaaaaaa  prod  acme/*,base   2027-01-01T00:00:00Z  2026-12-06T09:30:00Z  alice    active\n" +
			"pt-bbbbbbbbbbbbbbbbbbbb        team/app      2026-12-05T00:00:00Z  never                 bob      expired\n"},
		{name: "table on a terminal is styled", body: listBody, status: 200, tty: true, wantStyle: true},
		{name: "json drops any secret", body: listBody, status: 200, output: cmdutil.OutputJSON, want: `[
  {
    "created": "2026-12-01T00:00:00Z",
    "creator": "alice",
    "expired": false,
    "expires": "2027-01-01T00:00:00Z",
    "id": "pt-aaaaaaaaaaaaaaaaaaaa",
    "last_used": "2026-12-06T09:30:00Z",
    "name": "prod",
    "repositories": [
      "acme/*",
      "base"
    ]
  },
  {
    "created": "2026-12-02T00:00:00Z",
    "creator": "bob",
    "expired": true,
    "expires": "2026-12-05T00:00:00Z",
    "id": "pt-bbbbbbbbbbbbbbbbbbbb",
    "repositories": [
      "team/app"
    ]
  }
]
`},
		{name: "json empty is an array", body: `{"pull_tokens":null}`, status: 200, output: cmdutil.OutputJSON, want: "[]\n"},
		{name: "empty table says so on stderr", body: `{"pull_tokens":[]}`, status: 200, want: "",
			wantStderr: "No pull tokens (--expired lists expired ones too); create one with `chainctl auth pull-token create --repository PATTERN`\n"},
		{name: "empty with --expired", expired: true, body: `{"pull_tokens":[]}`, status: 200, want: "",
			wantStderr: "No pull tokens; create one with `chainctl auth pull-token create --repository PATTERN`\n"},
		{name: "unauthorized", body: `{"error":"unauthorized","message":"bad token"}`, status: 401, wantErr: "the registry refused the session token: bad token", wantAuth: true},
		{name: "registry without pull tokens", body: `404 page not found`, status: 404, wantErr: "this registry has no pull-token API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/v1/pull-tokens"
			if tt.expired {
				path += "?expired=true"
			}
			reg := apitest.New(t, apitest.Stub{Method: "GET", Path: path, Status: tt.status, Body: tt.body})
			ios, _, out, errOut := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			err := listRun(t.Context(), &ListOptions{Remote: reg.Remote(ios, tt.output), Expired: tt.expired})
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
			if strings.Contains(out.String()+errOut.String(), "ccpt_") {
				t.Errorf("output holds a secret:\n%s%s", out, errOut)
			}
		})
	}
}
