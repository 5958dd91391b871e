package create

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/events/subscriptions/shared"
	"github.com/chainctl/chainctl/internal/iostreams"
)

const testID = "sub-abcdefghijklmnopqrst"

func TestNewCmdCreate(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		output      cmdutil.OutputFormat
		want        shared.CreateRequest
		wantReg     string
		wantErr     string
		wantFlagErr bool
		wantHint    string
	}{
		{name: "every flag", args: []string{"https://hooks.example.com/registry", "--type", "push,pull", "--repository", "acme/*", "--repository", "team/app", "--description", " deploy "},
			want: shared.CreateRequest{Sink: "https://hooks.example.com/registry", Types: []string{"push", "pull"}, Repositories: []string{"acme/*", "team/app"}, Description: "deploy"}, wantReg: apitest.URL},
		{name: "default types, registry flag", args: []string{"http://127.0.0.1:8080", "--repository", "*", "--registry", "r.example.com"},
			want: shared.CreateRequest{Sink: "http://127.0.0.1:8080", Repositories: []string{"*"}}, wantReg: "https://r.example.com"},
		{name: "full type names, repeated, json", args: []string{"https://h.example.com", "--type", "dev.chainctl.registry.pull.v1", "--type", "PULL", "--repository", "a, b"}, output: cmdutil.OutputJSON,
			want: shared.CreateRequest{Sink: "https://h.example.com", Types: []string{"pull"}, Repositories: []string{"a", "b"}}, wantReg: apitest.URL},
		{name: "sink kept exactly", args: []string{"https://h.example.com/a?key=x", "--repository", "a"},
			want: shared.CreateRequest{Sink: "https://h.example.com/a?key=x", Repositories: []string{"a"}}, wantReg: apitest.URL},
		{name: "no sink", args: []string{"--repository", "a"}, wantErr: "accepts 1 arg(s), received 0"},
		{name: "no repository", args: []string{"https://h.example.com"}, wantErr: "a subscription needs at least one --repository", wantHint: "team/* (everything under team/)"},
		{name: "bad pattern", args: []string{"https://h.example.com", "--repository", "acme/*/x"}, wantErr: "wildcard", wantFlagErr: true},
		{name: "bad type", args: []string{"https://h.example.com", "--repository", "a", "--type", "delete"}, wantErr: `--type "delete": want push or pull`, wantFlagErr: true},
		{name: "sink not a URL", args: []string{"hooks.example.com", "--repository", "a"}, wantErr: `sink "hooks.example.com": want an absolute https:// URL`, wantFlagErr: true},
		{name: "sink with a password", args: []string{"https://u:p@h.example.com", "--repository", "a"}, wantErr: "no user info", wantFlagErr: true},
		{name: "sink of another scheme", args: []string{"ftp://h.example.com", "--repository", "a"}, wantErr: "want an absolute https:// URL", wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, tt.output, nil)
			var got *CreateOptions
			cmd := NewCmdCreate(f, func(_ context.Context, o *CreateOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || tt.wantFlagErr && !errors.As(err, &fe) {
					t.Fatalf("Execute(%q) = %v (%T), want an error with %q (flag error %v)", tt.args, err, err, tt.wantErr, tt.wantFlagErr)
				}
				var he *cmdutil.HintError
				if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
					t.Errorf("Execute(%q) = %v, want a hint with %q", tt.args, err, tt.wantHint)
				}
				if got != nil {
					t.Errorf("Execute(%q) ran the command despite the error", tt.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !reflect.DeepEqual(got.Request, tt.want) || got.Registry != tt.wantReg || got.Output != tt.output {
				t.Errorf("Request, Registry, Output = %+v, %q, %q\nwant %+v, %q, %q", got.Request, got.Registry, got.Output, tt.want, tt.wantReg, tt.output)
			}
		})
	}
}

const created = `{"id":"` + testID + `","sink":"https://hooks.example.com/registry","types":["push","dev.chainctl.registry.pull.v1"],` +
	`"repositories":["acme/*","team/app"],"description":"deploy","creator":"alice","created":"2026-12-07T14:00:00Z","disabled":false,` +
	`"health":{"pending":0,"failed":0},"future":{"x":1}}`

func Test_createRun(t *testing.T) {
	req := shared.CreateRequest{Sink: "https://hooks.example.com/registry", Types: []string{"push", "pull"}, Repositories: []string{"acme/*", "team/app"}, Description: "deploy"}
	reqBody := `{"sink":"https://hooks.example.com/registry","types":["push","pull"],"repositories":["acme/*","team/app"],"description":"deploy"}`
	local := `{"id":"` + testID + `","sink":"http://127.0.0.1:9000/hook","types":["push"],"repositories":["*"],"disabled":false,"health":{"pending":0,"failed":0}}`
	tests := []struct {
		name   string
		req    shared.CreateRequest
		body   string // the stub's WantBody
		answer string
		output cmdutil.OutputFormat
		want   string
	}{
		{name: "table", req: req, body: reqBody, answer: created, want: "" +
			"✓ Created subscription " + testID + "\n" +
			"id            " + testID + "\n" +
			"sink          https://hooks.example.com/registry\n" +
			"types         push, pull\n" +
			"repositories  acme/*, team/app\n" +
			"description   deploy\n" +
			"\n" +
			"The registry POSTs each event to the sink as a CloudEvent with a signed token (see chainctl events --help).\n" +
			"Follow its deliveries with chainctl events subscriptions list.\n" +
			"To try events on this machine, chainctl events listen is a sink that verifies and prints them.\n"},
		{name: "json keeps the registry's object", req: req, body: reqBody, answer: created, output: cmdutil.OutputJSON, want: `{
  "id": "` + testID + `",
  "sink": "https://hooks.example.com/registry",
  "types": [
    "push",
    "dev.chainctl.registry.pull.v1"
  ],
  "repositories": [
    "acme/*",
    "team/app"
  ],
  "description": "deploy",
  "creator": "alice",
  "created": "2026-12-07T14:00:00Z",
  "disabled": false,
  "health": {
    "pending": 0,
    "failed": 0
  },
  "future": {
    "x": 1
  }
}
`},
		{name: "a local sink: the listen command for it", req: shared.CreateRequest{Sink: "http://127.0.0.1:9000/hook", Repositories: []string{"*"}, Types: []string{"push"}},
			body: `{"sink":"http://127.0.0.1:9000/hook","types":["push"],"repositories":["*"]}`, answer: local, want: "" +
				"✓ Created subscription " + testID + "\n" +
				"id            " + testID + "\n" +
				"sink          http://127.0.0.1:9000/hook\n" +
				"types         push\n" +
				"repositories  *\n" +
				"\n" +
				"The registry POSTs each event to the sink as a CloudEvent with a signed token (see chainctl events --help).\n" +
				"Follow its deliveries with chainctl events subscriptions list.\n" +
				"Receive them on this machine with chainctl events listen --addr 127.0.0.1:9000 --sink-url http://127.0.0.1:9000/hook --registry " + apitest.URL + ".\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/subscriptions", WantBody: tt.body, Status: 201, Body: tt.answer})
			ios, _, out, errOut := iostreams.Test()
			if err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, tt.output), Request: tt.req}); err != nil {
				t.Fatalf("createRun() = %v", err)
			}
			if out.String() != tt.want {
				t.Errorf("output =\n%s\nwant\n%s", out, tt.want)
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", errOut)
			}
		})
	}
}

func Test_createRunErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     string
		wantAuth bool
		wantHint string
	}{
		{name: "not an owner", status: 403, body: `{"error":"forbidden","message":"not an owner of acme/*"}`,
			want: "permission denied: not an owner of acme/*", wantAuth: true, wantHint: "owners of every repository pattern"},
		{name: "session ended", status: 401, body: `{"error":"unauthorized","message":"token expired"}`,
			want: "the registry refused the session token: token expired", wantAuth: true, wantHint: "chainctl auth login"},
		{name: "plain-http sink refused", status: 400, body: `{"error":"invalid","message":"sink http://10.0.0.1/ must be https"}`,
			want: "sink http://10.0.0.1/ must be https", wantHint: "events.allow_private_sinks"},
		{name: "registry without events", status: 404, body: `404 page not found`, want: "this registry has no events API", wantHint: "older than event subscriptions"},
		{name: "answer without an id", status: 201, body: `{"sink":"https://h.example.com"}`, want: "create subscription: the registry's answer has no valid subscription id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/subscriptions", Status: tt.status, Body: tt.body})
			ios, _, out, _ := iostreams.Test()
			err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, ""),
				Request: shared.CreateRequest{Sink: "https://h.example.com", Repositories: []string{"acme/*"}}})
			var ae *cmdutil.AuthError
			if err == nil || err.Error() != tt.want || errors.As(err, &ae) != tt.wantAuth {
				t.Fatalf("createRun() = %v (%T), want %q, AuthError %v", err, err, tt.want, tt.wantAuth)
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
				t.Errorf("createRun() = %v, want a hint with %q", err, tt.wantHint)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}
