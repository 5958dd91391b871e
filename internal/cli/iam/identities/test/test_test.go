package test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestNewCmdTest(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		stdinTTY    bool
		wantFile    string
		wantFlagErr bool
	}{
		{name: "file", args: []string{"tok.jwt"}, wantFile: "tok.jwt"},
		{name: "dash", args: []string{"-"}, stdinTTY: true, wantFile: "-"},
		{name: "piped stdin", wantFile: "-"},
		{name: "terminal stdin without file", stdinTTY: true, wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.SetStdinTTY(tt.stdinTTY)
			f := apitest.Factory(ios, cmdutil.OutputTable, nil)
			var got *TestOptions
			cmd := NewCmdTest(f, func(_ context.Context, o *TestOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			var fe *cmdutil.FlagError
			if tt.wantFlagErr {
				if !errors.As(err, &fe) {
					t.Fatalf("Execute(%q) = %v, want a FlagError", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if got.TokenFile != tt.wantFile {
				t.Errorf("TokenFile = %q, want %q", got.TokenFile, tt.wantFile)
			}
		})
	}
}

const upstream = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"

func Test_testRun(t *testing.T) {
	mixed := `{"issuer":"https://token.actions.githubusercontent.com","subject":"repo:acme/app:ref:refs/heads/dev","results":[
		{"id":"gh-main","name":"acme/app","matched":false,"failures":[
			{"check":"claim","kind":"value","claim":"ref","reason":"claim ref is \"refs/heads/dev\", want \"refs/heads/main\""},
			{"check":"audience","reason":"aud [\"sts\"] does not contain \"registry\""}]},
		{"id":"gh-any","matched":true},
		{"id":"other","matched":false,"failures":[{"check":"issuer","claim":""}]}]}`
	none := `{"issuer":"https://x.example","subject":"s","results":[{"id":"a","matched":false,"failures":[{"reason":"subject differs"}]}]}`
	unverified := `{"issuer":"https://x.example","subject":"","error":"token expired","results":[]}`
	tests := []struct {
		name      string
		body      string
		status    int
		output    cmdutil.OutputFormat
		tty       bool
		want      string
		wantErr   error
		wantAuth  bool
		wantStyle bool
	}{
		{
			name: "some matched", body: mixed, status: 200,
			want: "issuer https://token.actions.githubusercontent.com, subject repo:acme/app:ref:refs/heads/dev\n" +
				"✗ gh-main (acme/app): claim ref is \"refs/heads/dev\", want \"refs/heads/main\"; aud [\"sts\"] does not contain \"registry\"\n" +
				"✓ gh-any: matched\n" +
				"✗ other: issuer failed\n",
		},
		{name: "styled on a terminal", body: mixed, status: 200, tty: true, wantStyle: true},
		{name: "none matched exits 1", body: none, status: 200, wantErr: cmdutil.ErrSilent,
			want: "issuer https://x.example, subject s\n✗ a: subject differs\n"},
		{name: "unverified token", body: unverified, status: 200, wantErr: cmdutil.ErrSilent,
			want: "issuer https://x.example, subject \n✗ the token could not be verified: token expired\n"},
		{name: "json", body: mixed, status: 200, output: cmdutil.OutputJSON, want: `"matched": true`},
		{name: "json none matched still exits 1", body: none, status: 200, output: cmdutil.OutputJSON, wantErr: cmdutil.ErrSilent, want: `"subject differs"`},
		{name: "unauthorized", body: `{"error":"unauthorized","message":"expired"}`, status: 401, wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/identities/test",
				WantBody: `{"token":"` + upstream + `"}`, Status: tt.status, Body: tt.body})
			ios, in, out, _ := iostreams.Test()
			in.WriteString(upstream + "\n")
			ios.SetStdoutTTY(tt.tty)
			err := testRun(t.Context(), &TestOptions{Remote: reg.Remote(ios, tt.output), TokenFile: "-"})
			if tt.wantAuth {
				var ae *cmdutil.AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("testRun() = %v, want an AuthError", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("testRun() = %v, want %v", err, tt.wantErr)
			}
			switch {
			case tt.output == cmdutil.OutputJSON:
				if !strings.Contains(out.String(), tt.want) {
					t.Errorf("output = %s, want it to contain %s", out, tt.want)
				}
			case !tt.tty && out.String() != tt.want:
				t.Errorf("output =\n%q\nwant\n%q", out, tt.want)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tt.wantStyle {
				t.Errorf("styled = %v, want %v", got, tt.wantStyle)
			}
			if strings.Contains(out.String(), upstream) || strings.Contains(out.String(), apitest.Token) {
				t.Errorf("output contains a token")
			}
		})
	}
}

func Test_testRunFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(file, []byte("  "+upstream+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/identities/test",
		WantBody: `{"token":"` + upstream + `"}`, Status: 200, Body: `{"issuer":"i","subject":"s","results":[{"id":"a","matched":true}]}`})
	ios, _, _, _ := iostreams.Test()
	if err := testRun(t.Context(), &TestOptions{Remote: reg.Remote(ios, ""), TokenFile: file}); err != nil {
		t.Fatalf("testRun() = %v", err)
	}

	// An empty token is refused before anything is sent.
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := testRun(t.Context(), &TestOptions{Remote: apitest.New(t).Remote(ios, ""), TokenFile: empty}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("testRun(empty file) = %v, want an error saying it is empty", err)
	}
}
