package create

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/policy"
)

func TestNewCmdCreate(t *testing.T) {
	pusher := []policy.RoleBinding{{Role: policy.RolePusher, Repositories: []policy.RepositoryPattern{"team/*"}}}
	tests := []struct {
		name         string
		args         []string
		env          map[string]string
		want         policy.Identity
		wantRegistry string
		wantFlagErr  bool
		wantErr      string
	}{
		{
			name: "generic",
			args: []string{"--name", "Alice Smith", "--issuer", "https://idp.example.com", "--subject", "alice",
				"--audience", "reg", "--claim", "email=a@example.com", "--claim-pattern", "groups=dev-.*",
				"--role", "pusher:team/*", "--role", "viewer:a/b, c/*", "--registry", "https://r.example.com"},
			want: policy.Identity{ID: "alice-smith", Name: "Alice Smith", Issuer: "https://idp.example.com", Subject: "alice",
				Audience: "reg",
				Claims:   []policy.ClaimMatch{{Name: "email", Value: "a@example.com"}, {Name: "groups", Pattern: "dev-.*"}},
				Roles: []policy.RoleBinding{pusher[0],
					{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"a/b", "c/*"}}}},
			wantRegistry: "https://r.example.com",
		},
		{
			name: "explicit id, pattern, any subject, registry from the environment",
			args: []string{"--id", "ci", "--issuer", "https://idp.example.com", "--subject-pattern", "x-.*",
				"--allow-any-subject", "--role", "owner:*"},
			env: map[string]string{"CHAINCTL_REGISTRY": "http://127.0.0.1:5000"},
			want: policy.Identity{ID: "ci", Issuer: "https://idp.example.com", SubjectPattern: "x-.*", AllowAnySubject: true,
				Roles: []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{"*"}}}},
			wantRegistry: "http://127.0.0.1:5000",
		},
		{
			name: "github preset",
			args: []string{"github", "--repository", "Acme/App", "--repository-id", "123", "--owner-id", "456",
				"--ref", "refs/heads/main", "--role", "pusher:team/*"},
			want: policy.Identity{ID: "github-acme-app", Name: "Acme/App", Issuer: policy.GitHubActionsIssuer,
				Claims: []policy.ClaimMatch{{Name: "repository_owner_id", Value: "456"}, {Name: "repository_id", Value: "123"},
					{Name: "ref", Value: "refs/heads/main"}},
				Roles: pusher},
			wantRegistry: apitest.URL,
		},
		{
			name: "gitlab preset",
			args: []string{"gitlab", "--project-path", "group/sub/proj", "--ref-type", "branch", "--ref", "main",
				"--issuer", "https://gitlab.example.com", "--id", "gl", "--role", "pusher:team/*"},
			want: policy.Identity{ID: "gl", Name: "group/sub/proj", Issuer: "https://gitlab.example.com",
				Claims: []policy.ClaimMatch{{Name: "project_path", Value: "group/sub/proj"}, {Name: "ref_type", Value: "branch"},
					{Name: "ref", Value: "main"}},
				Roles: pusher},
			wantRegistry: apitest.URL,
		},
		{name: "bad role syntax", args: []string{"--name", "a", "--issuer", "https://i.example", "--role", "pusher"}, wantFlagErr: true, wantErr: "want ROLE:PATTERN"},
		{name: "unknown role", args: []string{"--name", "a", "--issuer", "https://i.example", "--role", "admin:team/*"}, wantFlagErr: true, wantErr: "unknown role"},
		{name: "bad pattern", args: []string{"--name", "a", "--issuer", "https://i.example", "--role", "viewer:te*"}, wantFlagErr: true, wantErr: "wildcard"},
		{name: "no role", args: []string{"--name", "a", "--issuer", "https://i.example"}, wantFlagErr: true, wantErr: "--role"},
		{name: "no name or id", args: []string{"--issuer", "https://i.example", "--role", "viewer:a"}, wantFlagErr: true, wantErr: "--name"},
		{name: "bad claim", args: []string{"--name", "a", "--issuer", "https://i.example", "--claim", "x", "--role", "viewer:a"}, wantFlagErr: true, wantErr: "NAME=VALUE"},
		{name: "subject and pattern", args: []string{"--name", "a", "--issuer", "https://i.example", "--subject", "a", "--subject-pattern", "b", "--role", "viewer:a"}, wantErr: "none of the others"},
		{name: "github bad repository id", args: []string{"github", "--repository", "a/b", "--repository-id", "x", "--owner-id", "1", "--role", "viewer:a"}, wantFlagErr: true, wantErr: "numeric id"},
		{name: "github bad role", args: []string{"github", "--repository", "a/b", "--repository-id", "1", "--owner-id", "1", "--role", "viewer"}, wantFlagErr: true, wantErr: "ROLE:PATTERN"},
		{name: "gitlab ref without type", args: []string{"gitlab", "--project-path", "a/b", "--ref", "main", "--role", "viewer:a"}, wantFlagErr: true, wantErr: "ref type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputTable, tt.env)
			var got *CreateOptions
			cmd := NewCmdCreate(f, func(_ context.Context, o *CreateOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			c, err := cmd.ExecuteC()
			_ = c
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				if tt.wantFlagErr && !errors.As(err, &fe) {
					t.Errorf("Execute(%q) = %T, want *cmdutil.FlagError", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !reflect.DeepEqual(got.Identity, tt.want) {
				t.Errorf("Identity = %+v\nwant       %+v", got.Identity, tt.want)
			}
			if got.Registry != tt.wantRegistry {
				t.Errorf("Registry = %q, want %q", got.Registry, tt.wantRegistry)
			}
			if err := got.Identity.Validate(policy.IdentityOptions{Audience: "x"}); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestDeriveID(t *testing.T) {
	tests := []struct{ prefix, name, want string }{
		{"", "Alice Smith", "alice-smith"},
		{"github-", "Acme/My.App", "github-acme-my.app"},
		{"", "--x--", "x"},
		{"", strings.Repeat("ab", 40), strings.Repeat("ab", 32)},
	}
	for _, tt := range tests {
		if got := DeriveID(tt.prefix, tt.name); got != tt.want {
			t.Errorf("DeriveID(%q, %q) = %q, want %q", tt.prefix, tt.name, got, tt.want)
		}
	}
}

const storedJSON = `{"id":"ci","name":"CI","issuer":"https://idp.example.com","subject":"build",
	"claims":[{"name":"env","value":"prod"}],
	"roles":[{"role":"pusher","repositories":["team/*","x"]}],
	"source":"api","created":"2026-01-02T03:04:05Z","created_by":"alice"}`

func Test_createRun(t *testing.T) {
	valid := policy.Identity{ID: "ci", Name: "CI", Issuer: "https://idp.example.com", Subject: "build",
		Claims: []policy.ClaimMatch{{Name: "env", Value: "prod"}},
		Roles:  []policy.RoleBinding{{Role: policy.RolePusher, Repositories: []policy.RepositoryPattern{"team/*", "x"}}}}
	wantBody := `{"id":"ci","name":"CI","issuer":"https://idp.example.com","subject":"build",
		"claims":[{"name":"env","value":"prod"}],"roles":[{"role":"pusher","repositories":["team/*","x"]}]}`
	tests := []struct {
		name      string
		identity  policy.Identity
		stubs     []apitest.Stub
		output    cmdutil.OutputFormat
		tty       bool
		want      string
		wantErr   string
		wantAuth  bool
		wantStyle bool
	}{
		{
			name: "table piped", identity: valid,
			stubs: []apitest.Stub{{Method: "POST", Path: "/api/v1/identities", WantBody: wantBody, Status: 201, Body: storedJSON}},
			want: "id           ci\nname         CI\nissuer       https://idp.example.com\nissuer keys  discovered from the issuer\n" +
				"subject      build\naudience     (the registry's service name)\nclaims       env=prod\n" +
				"roles        pusher:team/*,x\nsource       api\ncreated      2026-01-02T03:04:05Z\ncreated by   alice\n",
		},
		{
			name: "table on a terminal", identity: valid, tty: true, wantStyle: true,
			stubs: []apitest.Stub{{Method: "POST", Path: "/api/v1/identities", WantBody: wantBody, Status: 201, Body: storedJSON}},
		},
		{
			name: "json", identity: valid, output: cmdutil.OutputJSON,
			stubs: []apitest.Stub{{Method: "POST", Path: "/api/v1/identities", Status: 201, Body: storedJSON}},
			want:  `"created_by": "alice"`,
		},
		{
			name: "conflict shows the message", identity: valid,
			stubs:   []apitest.Stub{{Method: "POST", Path: "/api/v1/identities", Status: 409, Body: `{"error":"conflict","message":"identity \"ci\" already exists"}`}},
			wantErr: `identity "ci" already exists`,
		},
		{
			name: "unauthorized", identity: valid, wantAuth: true,
			stubs:   []apitest.Stub{{Method: "POST", Path: "/api/v1/identities", Status: 401, Body: `{"error":"unauthorized","message":"session expired"}`}},
			wantErr: "session expired",
		},
		{
			name: "forbidden", identity: valid, wantAuth: true,
			stubs:   []apitest.Stub{{Method: "POST", Path: "/api/v1/identities", Status: 403, Body: `{"error":"forbidden","message":"not an owner of team/*"}`}},
			wantErr: "not an owner of team/*",
		},
		{
			name:     "refused locally, nothing sent",
			identity: policy.Identity{ID: "ci", Issuer: "https://idp.example.com", Roles: valid.Roles},
			wantErr:  "allow_any_subject",
		},
		{
			name:     "http issuer refused locally",
			identity: policy.Identity{ID: "ci", Issuer: "http://idp.example.com", Subject: "x", Roles: valid.Roles},
			wantErr:  "want https",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, tt.stubs...)
			ios, _, out, _ := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			opts := &CreateOptions{Remote: reg.Remote(ios, tt.output), Identity: tt.identity}
			err := createRun(t.Context(), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("createRun() = %v, want an error with %q", err, tt.wantErr)
				}
				var ae *cmdutil.AuthError
				if errors.As(err, &ae) != tt.wantAuth {
					t.Errorf("createRun() = %T, AuthError %v, want %v", err, !tt.wantAuth, tt.wantAuth)
				}
				return
			}
			if err != nil {
				t.Fatalf("createRun() = %v", err)
			}
			if tt.output == cmdutil.OutputJSON && !strings.Contains(out.String(), tt.want) {
				t.Errorf("output = %s, want it to contain %s", out, tt.want)
			} else if tt.output != cmdutil.OutputJSON && tt.want != "" && out.String() != tt.want {
				t.Errorf("output =\n%s\nwant\n%s", out, tt.want)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tt.wantStyle {
				t.Errorf("styled = %v, want %v", got, tt.wantStyle)
			}
			if strings.Contains(out.String(), apitest.Token) {
				t.Errorf("output contains the session token")
			}
		})
	}
}

func Test_createRunIssuerKeys(t *testing.T) {
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}`
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/identities", Status: 201, Body: storedJSON,
		WantBody: `{"id":"ci","issuer":"https://idp.example.com","subject":"b","issuer_keys":` + jwks + `,"roles":[{"role":"viewer","repositories":["a"]}]}`})
	ios, _, _, _ := iostreams.Test()
	opts := &CreateOptions{Remote: reg.Remote(ios, cmdutil.OutputJSON), IssuerKeysFile: file,
		Identity: policy.Identity{ID: "ci", Issuer: "https://idp.example.com", Subject: "b",
			Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"a"}}}}}
	if err := createRun(t.Context(), opts); err != nil {
		t.Fatalf("createRun() = %v", err)
	}
}

// TestCreateHelpParagraphs: the help of create and its presets keeps its
// paragraphs apart and does not repeat the rules every preset shares.
func TestCreateHelpParagraphs(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	create := NewCmdCreate(&cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{}}, nil)
	cmds := append([]*cobra.Command{create}, create.Commands()...)
	if len(cmds) != 3 {
		t.Fatalf("create has %d presets, want github and gitlab", len(cmds)-1)
	}
	for _, c := range cmds {
		long := c.Long
		for _, run := range []string{"gitlab\".\nCreating", "sent.\nThe registry", "printed.\n--id", "audience).\n--id", "it as the API returns it.\nThe"} {
			if strings.Contains(long, run) {
				t.Errorf("%s: paragraphs run together at %q", c.CommandPath(), run)
			}
		}
		if n := strings.Count(long, "it is sent only to that registry"); n != 0 {
			t.Errorf("%s repeats the session boilerplate of \"iam identities --help\"", c.CommandPath())
		}
		if c != create && strings.Contains(long, "The registry refuses") {
			t.Errorf("%s repeats the rules of \"create --help\"", c.CommandPath())
		}
		if !strings.HasSuffix(long, "\n") || strings.Contains(long, "\n\n\n") {
			t.Errorf("%s: Long = %q, want single blank lines between paragraphs", c.CommandPath(), long)
		}
	}
	if !strings.Contains(create.Long, "anything is sent.\n\n--id defaults") {
		t.Errorf("create: the security rules and --id paragraphs are not apart:\n%s", create.Long)
	}
}
