package describe

import (
	"context"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdDescribe(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantID  string
		wantErr bool
	}{
		{name: "id", args: []string{"ci"}, wantID: "ci"},
		{name: "no id", wantErr: true},
		{name: "two ids", args: []string{"a", "b"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputTable, nil)
			var got *DescribeOptions
			cmd := NewCmdDescribe(f, func(_ context.Context, o *DescribeOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if !tt.wantErr && got.ID != tt.wantID {
				t.Errorf("ID = %q, want %q", got.ID, tt.wantID)
			}
		})
	}
}

func Test_describeRun(t *testing.T) {
	body := `{"id":"a/b","name":"x","issuer":"https://i.example","subject_pattern":"s-.*","audience":"reg",
		"issuer_keys":{"keys":[]},"allow_any_subject":true,
		"claims":[{"name":"c","pattern":"p.*"}],"roles":[{"role":"viewer","repositories":["a"]},{"role":"owner","repositories":["b/*"]}],"source":"config"}`
	tests := []struct {
		name    string
		status  int
		body    string
		output  cmdutil.OutputFormat
		want    string
		wantErr string
	}{
		{
			name: "table", status: 200, body: body,
			want: "id               a/b\nname             x\nissuer           https://i.example\n" +
				"issuer keys      static JWKS (the issuer is never fetched)\nsubject pattern  s-.*\naudience         reg\n" +
				"claims           c~p.*\nany subject      yes: every principal of the issuer matches\n" +
				"roles            viewer:a\n                 owner:b/*\nsource           config\n",
		},
		{name: "json", status: 200, body: body, output: cmdutil.OutputJSON, want: `"allow_any_subject": true`},
		{name: "not found", status: 404, body: `{"error":"not_found","message":"no such identity"}`, wantErr: `no identity "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The id is path-escaped: a "/" stays inside one segment.
			reg := apitest.New(t, apitest.Stub{Method: "GET", Path: "/api/v1/identities/a%2Fb", Status: tt.status, Body: tt.body})
			ios, _, out, _ := iostreams.Test()
			err := describeRun(t.Context(), &DescribeOptions{Remote: reg.Remote(ios, tt.output), ID: "a/b"})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("describeRun() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("describeRun() = %v", err)
			}
			if tt.output == cmdutil.OutputJSON {
				if !strings.Contains(out.String(), tt.want) {
					t.Errorf("output = %s, want it to contain %s", out, tt.want)
				}
			} else if out.String() != tt.want {
				t.Errorf("output =\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}
