package delete

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

const (
	idA = "sub-aaaaaaaaaaaaaaaaaaaa"
	idB = "sub-bbbbbbbbbbbbbbbbbbbb"
	idC = "sub-cccccccccccccccccccc"
)

func TestNewCmdDelete(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "one", args: []string{idA}, want: []string{idA}},
		{name: "several, repeats dropped", args: []string{idA, idB, idA}, want: []string{idA, idB}},
		{name: "none", args: nil, wantErr: "requires at least 1 arg"},
		{name: "not an id", args: []string{idA, "hooks"}, wantErr: `"hooks" is not a subscription id: an id is sub- and 20 characters`},
		{name: "several bad", args: []string{"pt-aaaaaaaaaaaaaaaaaaaa", idA, "sub-short"},
			wantErr: `"pt-aaaaaaaaaaaaaaaaaaaa" and "sub-short" are not subscription ids`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *DeleteOptions
			cmd := NewCmdDelete(apitest.Factory(ios, cmdutil.OutputTable, nil), func(_ context.Context, o *DeleteOptions) error { got = o; return nil })
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
	var fe *cmdutil.FlagError
	if _, err := ParseIDs([]string{"x"}); !errors.As(err, &fe) {
		t.Errorf("ParseIDs(x) = %T, want a *cmdutil.FlagError", err)
	}
}

func deleted(id string) apitest.Stub {
	return apitest.Stub{Method: "DELETE", Path: "/api/v1/subscriptions/" + id, Status: 204}
}

func failing(id string, status int, code, msg string) apitest.Stub {
	return apitest.Stub{Method: "DELETE", Path: "/api/v1/subscriptions/" + id, Status: status, Body: `{"error":"` + code + `","message":"` + msg + `"}`}
}

func Test_deleteRun(t *testing.T) {
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
		{name: "one", ids: []string{idA}, stubs: []apitest.Stub{deleted(idA)}, want: "✓ Deleted subscription " + idA + "\n"},
		{
			name:       "several, one failing: the others are still deleted",
			ids:        []string{idA, idB, idC},
			stubs:      []apitest.Stub{deleted(idA), failing(idB, 404, "not_found", "no such subscription"), deleted(idC)},
			want:       "✓ Deleted subscription " + idA + "\n✓ Deleted subscription " + idC + "\n",
			wantStderr: "X " + idB + ": no subscription " + idB + ": it may have been deleted already\n",
			wantErr:    "1 of 3 subscriptions not deleted",
		},
		{
			name:  "several, forbidden: the hint is kept",
			ids:   []string{idA, idB},
			stubs: []apitest.Stub{failing(idA, 403, "forbidden", "not an owner of acme/*"), deleted(idB)},
			want:  "✓ Deleted subscription " + idB + "\n", wantStderr: "X " + idA + ": permission denied: not an owner of acme/*\n",
			wantErr: "1 of 2 subscriptions not deleted", wantAuth: true, wantHint: "owners of every repository pattern",
		},
		{
			name:       "several, a failure of each kind: not exit 4",
			ids:        []string{idA, idB},
			stubs:      []apitest.Stub{failing(idA, 403, "forbidden", "no"), failing(idB, 500, "internal", "boom")},
			wantStderr: "X " + idA + ": permission denied: no\nX " + idB + ": boom\n",
			wantErr:    "2 of 2 subscriptions not deleted", wantHint: "owners of every repository pattern",
		},
		{name: "one failing: its own error", ids: []string{idA}, stubs: []apitest.Stub{failing(idA, 401, "unauthorized", "expired")},
			wantErr: "the registry refused the session token: expired", wantAuth: true, wantHint: "chainctl auth login"},
		{
			name: "json", ids: []string{idA, idB}, output: cmdutil.OutputJSON,
			stubs: []apitest.Stub{deleted(idA), failing(idB, 404, "not_found", "gone")},
			want: `[
  {
    "id": "` + idA + `",
    "deleted": true
  },
  {
    "id": "` + idB + `",
    "deleted": false,
    "error": "no subscription ` + idB + `: it may have been deleted already"
  }
]
`,
			wantErr: "1 of 2 subscriptions not deleted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, tt.stubs...)
			ios, _, out, errOut := iostreams.Test()
			err := deleteRun(t.Context(), &DeleteOptions{Remote: reg.Remote(ios, tt.output), IDs: tt.ids})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("deleteRun() = %v", err)
			}
			if tt.wantErr != "" {
				var ae *cmdutil.AuthError
				if err == nil || err.Error() != tt.wantErr || errors.As(err, &ae) != tt.wantAuth {
					t.Fatalf("deleteRun() = %v (%T), want %q, AuthError %v", err, err, tt.wantErr, tt.wantAuth)
				}
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
				t.Errorf("deleteRun() = %v, want a hint with %q", err, tt.wantHint)
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
