package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/session/sessiontest"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestNewCmdToken(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantScopes []string
		wantErr    bool
		wantMsg    string
	}{
		{name: "default"},
		{name: "scopes", args: []string{"--scope", "repository:a/b:pull,push", "--scope", "repository:c:pull"},
			wantScopes: []string{"repository:a/b:pull,push", "repository:c:pull"}},
		{name: "bad scope", args: []string{"--scope", "a/b"}, wantErr: true},
		{name: "unknown action", args: []string{"--scope", "repository:x:pull,frobnicate"}, wantErr: true,
			wantMsg: `invalid --scope "repository:x:pull,frobnicate": unknown action "frobnicate"; actions are pull, push, delete, *`},
		{name: "no action", args: []string{"--scope", "repository:x:"}, wantErr: true, wantMsg: `invalid --scope "repository:x:": no actions`},
		{name: "bad repository name", args: []string{"--scope", "repository:Acme:pull"}, wantErr: true, wantMsg: `invalid --scope "repository:Acme:pull": repository name: `},
		{name: "unknown type", args: []string{"--scope", "blob:x:pull"}, wantErr: true, wantMsg: "unknown resource type"},
		{name: "catalog", args: []string{"--scope", "registry:catalog:*"}, wantScopes: []string{"registry:catalog:*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputTable}}
			var got *TokenOptions
			cmd := NewCmdToken(f, func(_ context.Context, o *TokenOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			var fe *cmdutil.FlagError
			if tt.wantErr {
				if !errors.As(err, &fe) {
					t.Fatalf("Execute(%q) = %v, want FlagError", tt.args, err)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("Execute(%q) = %v, want %q", tt.args, err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if len(got.Scopes) != len(tt.wantScopes) {
				t.Errorf("Scopes = %q, want %q", got.Scopes, tt.wantScopes)
			}
		})
	}
}

func Test_tokenRun(t *testing.T) {
	tests := []struct {
		name     string
		cached   bool
		scopes   []string
		want     string
		wantAuth bool
	}{
		{name: "session from cache", cached: true, want: sessiontest.SessionToken + "\n"},
		{name: "scoped", cached: true, scopes: []string{"repository:acme/app:pull"}, want: sessiontest.AccessToken + "\n"},
		{name: "not logged in", wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, stdout, stderr := iostreams.Test()
			reg := sessiontest.New(t)
			cache, err := tokencache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if tt.cached {
				if err := cache.Put(sessiontest.Host, tokencache.Entry{Kind: tokencache.KindSession, Token: sessiontest.SessionToken, Expiry: time.Now().Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			opts := &TokenOptions{
				IO: ios, HTTPClient: reg.HTTPClient, Scopes: tt.scopes,
				Registry: func(string) (session.Registry, error) { return session.ParseRegistry(sessiontest.Host) },
				// The Factory's Session, without the process's CI credentials.
				Session: func(ctx context.Context, r session.Registry) (tokencache.Entry, error) {
					return shared.Session(ctx, r, shared.SessionOptions{HTTPClient: reg.Client(), Cache: cache, Ambient: sessiontest.Env{}})
				},
			}
			err = tokenRun(context.Background(), opts)
			var ae *cmdutil.AuthError
			if tt.wantAuth {
				if !errors.As(err, &ae) {
					t.Fatalf("tokenRun() = %v, want AuthError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("tokenRun() = %v", err)
			}
			if stdout.String() != tt.want || stderr.Len() != 0 {
				t.Errorf("stdout, stderr = %q, %q, want %q, nothing", stdout, stderr, tt.want)
			}
		})
	}
}
