package configuredocker

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/tokencache"
)

const (
	testID     = "pt-abcdefghijklmnopqrst"
	testSecret = "ccpt_nr3tv1zZ9hWEjSakBKxq2j7dTGg9JtNszcSu69efxNY3wyxZ1"
	created    = `{"id":"` + testID + `","name":"scanner","repositories":["acme/*"],"creator":"alice",` +
		`"created":"2026-12-07T14:00:00Z","expires":"2027-03-07T14:00:00Z","expired":false,"secret":"` + testSecret + `"}`
)

func TestNewCmdConfigureDockerPullToken(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		env          map[string]string
		want         shared.CreateRequest
		wantRegistry string
		wantErr      string
		wantFlagErr  bool
	}{
		{name: "pull token", args: []string{"--registry", "r.example", "--pull-token", "--repository", "acme/*", "--ttl", "90d", "--name", "scanner"},
			env:  map[string]string{"DOCKER_CONFIG": "/d"},
			want: shared.CreateRequest{Name: "scanner", Repositories: []string{"acme/*"}, TTLSeconds: 90 * 86400}, wantRegistry: "https://r.example"},
		{name: "registry from the environment", args: []string{"--pull-token", "--repository", "a"},
			env:  map[string]string{"DOCKER_CONFIG": "/d", "CHAINCTL_REGISTRY": "127.0.0.1:5000"},
			want: shared.CreateRequest{Repositories: []string{"a"}}, wantRegistry: "http://127.0.0.1:5000"},
		{name: "registry from the user configuration", args: []string{"--pull-token", "--repository", "a"},
			env:  map[string]string{"DOCKER_CONFIG": "/d"},
			want: shared.CreateRequest{Repositories: []string{"a"}}, wantRegistry: apitest.URL},
		{name: "no repository", args: []string{"--pull-token", "--ttl", "1h"}, wantErr: "--repository is required with --pull-token"},
		{name: "bad ttl", args: []string{"--pull-token", "--repository", "a", "--ttl", "soon"}, wantErr: `--ttl "soon"`, wantFlagErr: true},
		{name: "token flags without --pull-token", args: []string{"--registry", "r.example", "--repository", "a"}, wantErr: "add --pull-token", wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputTable, tt.env)
			var got *ConfigureDockerOptions
			cmd := NewCmdConfigureDocker(f, func(o *ConfigureDockerOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &fe) != tt.wantFlagErr {
					t.Fatalf("Execute(%q) = %v (%T), want %q, flag error %v", tt.args, err, err, tt.wantErr, tt.wantFlagErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !got.PullToken || !reflect.DeepEqual(got.Request, tt.want) || got.Registry != tt.wantRegistry || got.Remote.Registry != tt.wantRegistry || got.ConfigDir != "/d" {
				t.Errorf("PullToken, Request, Registry, Remote.Registry, ConfigDir = %v, %+v, %q, %q, %q\nwant true, %+v, %q",
					got.PullToken, got.Request, got.Registry, got.Remote.Registry, got.ConfigDir, tt.want, tt.wantRegistry)
			}
		})
	}
}

// pullTokenSetup returns options for pullTokenRun on the stub registry
// reg, with a temporary docker config, chainctl and token cache that
// holds a login session for registry.test.
func pullTokenSetup(t *testing.T, reg *apitest.Registry) (*ConfigureDockerOptions, *tokencache.Cache) {
	t.Helper()
	cache, err := tokencache.Open(filepath.Join(t.TempDir(), "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Put("registry.test", tokencache.Entry{Kind: tokencache.KindSession, Token: apitest.Token, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	exe := fakeExe(t)
	return &ConfigureDockerOptions{
		IO: ios, Registry: apitest.URL, ConfigDir: filepath.Join(t.TempDir(), "docker"),
		Executable: func() (string, error) { return exe, nil },
		OpenCache:  func() (*tokencache.Cache, error) { return cache, nil },
		PullToken:  true,
		Request:    shared.CreateRequest{Name: "scanner", Repositories: []string{"acme/*"}, TTLSeconds: 90 * 86400},
		Remote:     reg.Remote(ios, ""),
	}, cache
}

func Test_pullTokenRun(t *testing.T) {
	reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens",
		WantBody: `{"name":"scanner","repositories":["acme/*"],"ttl_seconds":7776000}`, Status: 201, Body: created})
	opts, cache := pullTokenSetup(t, reg)
	if err := pullTokenRun(t.Context(), opts); err != nil {
		t.Fatalf("pullTokenRun() = %v\nstderr: %s", err, opts.IO.ErrOut)
	}
	stdout, stderr := opts.IO.Out.(interface{ String() string }).String(), opts.IO.ErrOut.(interface{ String() string }).String()
	config := filepath.Join(opts.ConfigDir, "config.json")
	want := "✓ Created pull token " + testID + " for acme/*, expires 2027-03-07T14:00:00Z\n" +
		"Configured " + config + " to use chainctl for registry.test\n"
	if !strings.HasPrefix(stdout, want) || !strings.HasSuffix(stdout, "Revoke it with: chainctl auth pull-token revoke "+testID+"\n") {
		t.Errorf("stdout =\n%s\nwant it to start with\n%sand end with the revoke command", stdout, want)
	}
	if !strings.Contains(stderr, "instead of your chainctl session") || !strings.Contains(stderr, "To go back: docker logout registry.test\n") {
		t.Errorf("stderr = %q, want what docker now uses and how to go back", stderr)
	}
	if strings.Contains(stdout+stderr, testSecret) {
		t.Errorf("configure-docker --pull-token printed the password:\n%s\n%s", stdout, stderr)
	}
	if e, err := cache.Stored().Get("registry.test"); err != nil || e.Username != testID || e.Token != testSecret {
		t.Errorf("stored entry = %v, %v, want the pull token", e, err)
	}
	if e, err := cache.Get("registry.test"); err != nil || e.Token != apitest.Token {
		t.Errorf("session = %v, %v, want it untouched", e, err)
	}
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ CredHelpers map[string]string }
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.CredHelpers["registry.test"] != "chainctl" {
		t.Errorf("config.json = %s, want credHelpers registry.test: chainctl", data)
	}
}

// Test_pullTokenRunRevokesWhatItCannotSave: a token whose password cannot
// be saved is useless (it is never printed), so it is revoked again.
func Test_pullTokenRunRevokesWhatItCannotSave(t *testing.T) {
	reg := apitest.New(t,
		apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens", Status: 201, Body: created},
		apitest.Stub{Method: "DELETE", Path: "/api/v1/pull-tokens/" + testID, Status: 204},
	)
	opts, cache := pullTokenSetup(t, reg)
	opens := 0
	opts.OpenCache = func() (*tokencache.Cache, error) {
		// The first open (before creating) works; saving fails.
		if opens++; opens > 1 {
			return nil, errors.New("disk full")
		}
		return cache, nil
	}
	err := pullTokenRun(t.Context(), opts)
	var he *cmdutil.HintError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "disk full") || he.Hint != "pull token "+testID+" was revoked again, since it could not be saved" {
		t.Errorf("pullTokenRun() = %v, want the save error and a hint that the token was revoked", err)
	}
	if _, err := os.Stat(filepath.Join(opts.ConfigDir, "config.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config.json was written although nothing was saved: %v", err)
	}
}
