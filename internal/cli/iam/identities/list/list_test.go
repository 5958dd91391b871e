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
		env          map[string]string
		output       cmdutil.OutputFormat
		wantRegistry string
		wantErr      bool
	}{
		{name: "flag", args: []string{"--registry", "https://a.example"}, wantRegistry: "https://a.example"},
		{name: "flag beats env", args: []string{"--registry", "https://a.example"}, env: map[string]string{"CHAINCTL_REGISTRY": "https://b.example"}, wantRegistry: "https://a.example"},
		{name: "env", env: map[string]string{"CHAINCTL_REGISTRY": "https://b.example"}, output: cmdutil.OutputJSON, wantRegistry: "https://b.example"},
		{name: "extra argument", args: []string{"x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, tt.output, tt.env)
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
			if got.Registry != tt.wantRegistry || got.Output != tt.output {
				t.Errorf("Registry, Output = %q, %q, want %q, %q", got.Registry, got.Output, tt.wantRegistry, tt.output)
			}
		})
	}
}

const listBody = `{"identities":[
	{"id":"admin","issuer":"https://idp.example.com","subject":"alice","roles":[{"role":"owner","repositories":["*"]}],"source":"config"},
	{"id":"github-acme-app","name":"acme/app","issuer":"https://token.actions.githubusercontent.com",
	 "claims":[{"name":"repository_owner_id","value":"1"},{"name":"repository_id","value":"2"}],
	 "roles":[{"role":"pusher","repositories":["acme/*"]},{"role":"viewer","repositories":["base"]}],"source":"api","created":"2026-01-02T03:04:05Z","created_by":"admin"},
	{"id":"k8s","issuer":"https://k8s.example.com","subject_pattern":"system:serviceaccount:prod:.+","roles":[{"role":"viewer","repositories":["prod/*"]}],"source":"api"}]}`

func Test_listRun(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		status    int
		output    cmdutil.OutputFormat
		tty       bool
		want      string
		wantErr   string
		wantAuth  bool
		wantStyle bool
		wantInfo  string // on stderr
	}{
		{
			name: "table piped", body: listBody, status: 200,
			want: "ID               NAME      ISSUER                                       SUBJECT                                ROLES                      SOURCE\n" +
				"admin                      https://idp.example.com                      alice                                  owner:*                    config\n" +
				"github-acme-app  acme/app  https://token.actions.githubusercontent.com  repository_owner_id=1 repository_id=2  pusher:acme/* viewer:base  api\n" +
				"k8s                        https://k8s.example.com                      ~system:serviceaccount:prod:.+         viewer:prod/*              api\n",
		},
		{name: "table on a terminal has styled headers", body: listBody, status: 200, tty: true, wantStyle: true},
		{name: "json", body: listBody, status: 200, output: cmdutil.OutputJSON, want: `"subject_pattern": "system:serviceaccount:prod:.+"`},
		{name: "json empty is an array", body: `{"identities":null}`, status: 200, output: cmdutil.OutputJSON, want: "[]\n"},
		{name: "empty piped prints nothing on stdout", body: `{"identities":[]}`, status: 200, want: "",
			wantInfo: "No identities that you manage. The list shows only the identities whose roles lie within\nrepositories you own; others may exist.\n"},
		{name: "empty on a terminal", body: `{"identities":[]}`, status: 200, tty: true,
			wantInfo: "No identities that you manage. The list shows only the identities whose roles lie within\nrepositories you own; others may exist.\n"},
		{name: "unauthorized", body: `{"error":"unauthorized","message":"bad token"}`, status: 401, wantErr: "bad token", wantAuth: true},
		{name: "server error without JSON", body: `oops`, status: 500, wantErr: "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "GET", Path: "/api/v1/identities", Status: tt.status, Body: tt.body})
			ios, _, out, errOut := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			err := listRun(t.Context(), &ListOptions{Remote: reg.Remote(ios, tt.output)})
			if tt.wantErr != "" {
				var ae *cmdutil.AuthError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &ae) != tt.wantAuth {
					t.Fatalf("listRun() = %v (%T), want an error with %q, AuthError %v", err, err, tt.wantErr, tt.wantAuth)
				}
				return
			}
			if err != nil {
				t.Fatalf("listRun() = %v", err)
			}
			switch {
			case tt.output == cmdutil.OutputJSON:
				if !strings.Contains(out.String(), tt.want) || !strings.HasPrefix(out.String(), "[") {
					t.Errorf("output = %s, want an array containing %s", out, tt.want)
				}
			case !tt.tty && out.String() != tt.want:
				t.Errorf("output =\n%q\nwant\n%q", out, tt.want)
			}
			if errOut.String() != tt.wantInfo {
				t.Errorf("stderr = %q, want %q", errOut, tt.wantInfo)
			}
			if tt.wantInfo != "" && out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tt.wantStyle {
				t.Errorf("styled = %v, want %v", got, tt.wantStyle)
			}
		})
	}
}
