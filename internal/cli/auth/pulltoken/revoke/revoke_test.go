package revoke

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/tokencache"
)

const (
	idA = "pt-aaaaaaaaaaaaaaaaaaaa"
	idB = "pt-bbbbbbbbbbbbbbbbbbbb"
	idC = "pt-cccccccccccccccccccc"
)

func TestNewCmdRevoke(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "one", args: []string{idA}, want: []string{idA}},
		{name: "several, repeats dropped", args: []string{idA, idB, idA}, want: []string{idA, idB}},
		{name: "none", args: nil, wantErr: "requires at least 1 arg"},
		{name: "not an id", args: []string{idA, "ci"}, wantErr: `"ci" is not a pull token id: an id is pt- and 20 characters a-z and 2-7`},
		{name: "several bad", args: []string{"PT-AAAAAAAAAAAAAAAAAAAA", idA, "pt-short", "pt-aaaaaaaaaaaaaaaaaaa1"},
			wantErr: `"PT-AAAAAAAAAAAAAAAAAAAA", "pt-short" and "pt-aaaaaaaaaaaaaaaaaaa1" are not pull token ids`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputTable, nil)
			var got *RevokeOptions
			cmd := NewCmdRevoke(f, func(_ context.Context, o *RevokeOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Execute(%q) ran the command despite the error", tt.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !reflect.DeepEqual(got.IDs, tt.want) || got.Registry != apitest.URL {
				t.Errorf("IDs, Registry = %q, %q, want %q, %q", got.IDs, got.Registry, tt.want, apitest.URL)
			}
		})
	}
	// Malformed ids are refused as a usage error, before any request.
	var fe *cmdutil.FlagError
	if _, err := ParseIDs([]string{"x"}); !errors.As(err, &fe) {
		t.Errorf("ParseIDs(x) = %T, want a *cmdutil.FlagError", err)
	}
}

func revoked(id string) apitest.Stub {
	return apitest.Stub{Method: "DELETE", Path: "/api/v1/pull-tokens/" + id, Status: 204}
}

func failing(id string, status int, code, msg string) apitest.Stub {
	return apitest.Stub{Method: "DELETE", Path: "/api/v1/pull-tokens/" + id, Status: status, Body: `{"error":"` + code + `","message":"` + msg + `"}`}
}

func Test_revokeRun(t *testing.T) {
	tests := []struct {
		name       string
		ids        []string
		stubs      []apitest.Stub
		output     cmdutil.OutputFormat
		want       string
		wantStderr string
		wantErr    string
		wantAuth   bool
		wantHint   string
	}{
		{name: "one", ids: []string{idA}, stubs: []apitest.Stub{revoked(idA)}, want: "✓ Revoked " + idA + "\n"},
		{
			name:       "several, one failing: the others are still revoked",
			ids:        []string{idA, idB, idC},
			stubs:      []apitest.Stub{revoked(idA), failing(idB, 404, "not_found", "no such pull token"), revoked(idC)},
			want:       "✓ Revoked " + idA + "\n✓ Revoked " + idC + "\n",
			wantStderr: "X " + idB + ": no pull token " + idB + ": it may have been revoked already\n",
			wantErr:    "1 of 3 pull tokens not revoked",
		},
		{
			name:  "several, forbidden: the hint is kept",
			ids:   []string{idA, idB},
			stubs: []apitest.Stub{failing(idA, 403, "forbidden", "not an owner of acme/*"), revoked(idB)},
			want:  "✓ Revoked " + idB + "\n", wantStderr: "X " + idA + ": permission denied: not an owner of acme/*\n",
			wantErr: "1 of 2 pull tokens not revoked", wantAuth: true, wantHint: "you must be an owner of every repository pattern the pull token covers",
		},
		{
			name:       "several, a failure of each kind: not exit 4",
			ids:        []string{idA, idB},
			stubs:      []apitest.Stub{failing(idA, 403, "forbidden", "no"), failing(idB, 500, "internal", "boom")},
			wantStderr: "X " + idA + ": permission denied: no\nX " + idB + ": boom\n",
			wantErr:    "2 of 2 pull tokens not revoked", wantHint: "you must be an owner",
		},
		{name: "one failing: its own error", ids: []string{idA}, stubs: []apitest.Stub{failing(idA, 401, "unauthorized", "expired")},
			wantErr: "the registry refused the session token: expired", wantAuth: true, wantHint: "chainctl auth login"},
		{
			name: "json", ids: []string{idA, idB}, output: cmdutil.OutputJSON,
			stubs: []apitest.Stub{revoked(idA), failing(idB, 404, "not_found", "gone")},
			want: `[
  {
    "id": "` + idA + `",
    "revoked": true
  },
  {
    "id": "` + idB + `",
    "revoked": false,
    "error": "no pull token ` + idB + `: it may have been revoked already"
  }
]
`,
			wantErr: "1 of 2 pull tokens not revoked",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, tt.stubs...)
			ios, _, out, errOut := iostreams.Test()
			err := revokeRun(t.Context(), &RevokeOptions{Remote: reg.Remote(ios, tt.output), IDs: tt.ids})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("revokeRun() = %v", err)
			}
			if tt.wantErr != "" {
				var ae *cmdutil.AuthError
				if err == nil || err.Error() != tt.wantErr || errors.As(err, &ae) != tt.wantAuth {
					t.Fatalf("revokeRun() = %v (%T), want %q, AuthError %v", err, err, tt.wantErr, tt.wantAuth)
				}
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
				t.Errorf("revokeRun() = %v, want a hint with %q", err, tt.wantHint)
			}
			if out.String() != tt.want {
				t.Errorf("stdout =\n%s\nwant\n%s", out, tt.want)
			}
			if errOut.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", errOut, tt.wantStderr)
			}
		})
	}
}

// Test_revokeRunSavedToken: revoking the token docker on this machine
// pulls with says so, and how to stop sending it.
func Test_revokeRunSavedToken(t *testing.T) {
	cache, err := tokencache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Stored().Put("registry.test", tokencache.Entry{Kind: tokencache.KindStored, Username: idB, Token: "ccpt_x"}); err != nil {
		t.Fatal(err)
	}
	open := func() (*tokencache.Cache, error) { return cache, nil }
	for _, tt := range []struct {
		name, id, want string
	}{
		{name: "the saved token", id: idB, want: "! docker on this machine pulls from registry.test with " + idB + ", which is now refused: run docker logout registry.test\n"},
		{name: "another token", id: idA, want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, revoked(tt.id))
			ios, _, _, errOut := iostreams.Test()
			if err := revokeRun(t.Context(), &RevokeOptions{Remote: reg.Remote(ios, ""), IDs: []string{tt.id}, TokenCache: open}); err != nil {
				t.Fatal(err)
			}
			if errOut.String() != tt.want {
				t.Errorf("stderr = %q, want %q", errOut, tt.want)
			}
		})
	}
}
