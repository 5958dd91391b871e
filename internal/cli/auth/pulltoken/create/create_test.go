package create

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/auth/configuredocker"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/pulltoken"
	"github.com/chainctl/chainctl/internal/tokencache"
)

const (
	testID     = "pt-abcdefghijklmnopqrst"
	testSecret = "ccpt_nr3tv1zZ9hWEjSakBKxq2j7dTGg9JtNszcSu69efxNY3wyxZ1"
	// created is the registry's answer to the create of ciRequest.
	created = `{"id":"` + testID + `","name":"ci","description":"nightly","repositories":["acme/*","team/app"],"creator":"alice",` +
		`"created":"2026-12-07T14:00:00Z","expires":"2027-01-06T14:00:00Z","expired":false,"secret":"` + testSecret + `","future":{"x":1}}`
	ciBody = `{"name":"ci","description":"nightly","repositories":["acme/*","team/app"],"ttl_seconds":2592000}`
)

var ciRequest = shared.CreateRequest{Name: "ci", Description: "nightly", Repositories: []string{"acme/*", "team/app"}, TTLSeconds: 2592000}

func TestSecretIsValid(t *testing.T) {
	if !pulltoken.Valid(testSecret) || !pulltoken.ValidID(testID) {
		t.Fatalf("the test's token is not well-formed: the client would refuse it")
	}
}

func TestNewCmdCreate(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		want        shared.CreateRequest
		wantFormat  Format
		wantReg     string
		wantSave    bool
		wantErr     string
		wantFlagErr bool
		wantHint    string
	}{
		{name: "every flag", args: []string{"--repository", "acme/*", "--repository", "team/app", "--ttl", "720h", "--name", "ci", "--description", "nightly"},
			want: ciRequest, wantFormat: FormatTable, wantReg: apitest.URL},
		{name: "env output, registry flag", args: []string{"--repository", "*", "-o", "env", "--registry", "r.example.com"},
			want: shared.CreateRequest{Repositories: []string{"*"}}, wantFormat: FormatEnv, wantReg: "https://r.example.com"},
		{name: "dockerconfigjson", args: []string{"--repository", "a", "--output=dockerconfigjson"},
			want: shared.CreateRequest{Repositories: []string{"a"}}, wantFormat: FormatDockerConfig, wantReg: apitest.URL},
		{name: "json, any case", args: []string{"--repository", "a", "-o", "JSON"},
			want: shared.CreateRequest{Repositories: []string{"a"}}, wantFormat: FormatJSON, wantReg: apitest.URL},
		{name: "save", args: []string{"--repository", "a", "--save", "--ttl", "2d"}, env: map[string]string{"DOCKER_CONFIG": "/docker"},
			want: shared.CreateRequest{Repositories: []string{"a"}, TTLSeconds: 2 * 86400}, wantFormat: FormatTable, wantReg: apitest.URL, wantSave: true},
		{name: "no repository", args: []string{"--name", "ci"}, wantErr: "a pull token needs at least one --repository", wantHint: "--repository PATTERN"},
		{name: "bad ttl", args: []string{"--repository", "a", "--ttl", "0s"}, wantErr: `--ttl "0s"`, wantFlagErr: true},
		{name: "days must be whole", args: []string{"--repository", "a", "--ttl", "1.5d"}, wantErr: `--ttl "1.5d"`, wantFlagErr: true},
		{name: "bad pattern", args: []string{"--repository", "acme/*/x"}, wantErr: "wildcard", wantFlagErr: true},
		{name: "unknown format", args: []string{"--repository", "a", "-o", "yaml"}, wantErr: "must be one of table, json, env, dockerconfigjson"},
		{name: "argument", args: []string{"--repository", "a", "extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := apitest.Factory(ios, cmdutil.OutputTable, tt.env)
			f.TokenCache = func() (*tokencache.Cache, error) { return nil, errors.New("not opened by a test of flags") }
			var got *CreateOptions
			cmd := NewCmdCreate(f, func(_ context.Context, o *CreateOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				var he *cmdutil.HintError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || tt.wantFlagErr && !errors.As(err, &fe) {
					t.Fatalf("Execute(%q) = %v (%T), want an error with %q (flag error %v)", tt.args, err, err, tt.wantErr, tt.wantFlagErr)
				}
				if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
					t.Errorf("Execute(%q) = %v, want a hint with %q", tt.args, err, tt.wantHint)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !reflect.DeepEqual(got.Request, tt.want) || got.Format != tt.wantFormat || got.Registry != tt.wantReg || got.Save != tt.wantSave {
				t.Errorf("Request, Format, Registry, Save = %+v, %q, %q, %v\nwant %+v, %q, %q, %v",
					got.Request, got.Format, got.Registry, got.Save, tt.want, tt.wantFormat, tt.wantReg, tt.wantSave)
			}
			if tt.wantSave && (got.Docker == nil || got.Docker.ConfigDir != "/docker" || got.Docker.OpenCache == nil) {
				t.Errorf("Docker = %+v, want docker's config dir from $DOCKER_CONFIG and the token cache", got.Docker)
			}
		})
	}
}

func Test_createRun(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		want   string
	}{
		{name: "table", format: FormatTable, want: "" +
			"registry      registry.test\n" +
			"username      " + testID + "\n" +
			"password      " + testSecret + "\n" +
			"expires       2027-01-06T14:00:00Z\n" +
			"repositories  acme/*, team/app\n" +
			"name          ci\n" +
			"\n" +
			"Log in with the password above:\n" +
			"  docker login registry.test -u " + testID + " --password-stdin\n" +
			"! The password is shown only this once: store it now. Revoke the token with chainctl auth pull-token revoke " + testID + "\n"},
		{name: "env", format: FormatEnv, want: "" +
			"CHAINCTL_PULL_TOKEN_REGISTRY='registry.test'\n" +
			"CHAINCTL_PULL_TOKEN_USERNAME='" + testID + "'\n" +
			"CHAINCTL_PULL_TOKEN_PASSWORD='" + testSecret + "'\n" +
			"CHAINCTL_PULL_TOKEN_EXPIRES='2027-01-06T14:00:00Z'\n"},
		{name: "dockerconfigjson", format: FormatDockerConfig, want: `{
  "auths": {
    "registry.test": {
      "username": "` + testID + `",
      "password": "` + testSecret + `",
      "auth": "cHQtYWJjZGVmZ2hpamtsbW5vcHFyc3Q6Y2NwdF9ucjN0djF6WjloV0VqU2FrQkt4cTJqN2RUR2c5SnROc3pjU3U2OWVmeE5ZM3d5eFox"
    }
  }
}
`},
		{name: "json", format: FormatJSON, want: `{
  "created": "2026-12-07T14:00:00Z",
  "creator": "alice",
  "description": "nightly",
  "expired": false,
  "expires": "2027-01-06T14:00:00Z",
  "future": {
    "x": 1
  },
  "id": "` + testID + `",
  "name": "ci",
  "registry": "registry.test",
  "repositories": [
    "acme/*",
    "team/app"
  ],
  "secret": "` + testSecret + `"
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens", WantBody: ciBody, Status: 201, Body: created})
			ios, _, out, errOut := iostreams.Test()
			err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, ""), Request: ciRequest, Format: tt.format})
			if err != nil {
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

// TestDockerConfigAuth: the auth field is base64 of username:password,
// as docker and Kubernetes read it.
func TestDockerConfigAuth(t *testing.T) {
	reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens", Status: 201, Body: created})
	ios, _, out, _ := iostreams.Test()
	if err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, ""), Request: ciRequest, Format: FormatDockerConfig}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths map[string]struct{ Username, Password, Auth string }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Auths["registry.test"]
	auth, err := base64.StdEncoding.DecodeString(a.Auth)
	if err != nil || a.Username != testID || a.Password != testSecret || string(auth) != testID+":"+testSecret {
		t.Errorf("auths[registry.test] = %+v (auth decodes to %q, %v)", a, auth, err)
	}
}

// TestEnvEval: the env output, evaluated by a POSIX shell, sets the
// variables to the exact values, quotes included.
func TestEnvEval(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, v := range []string{"plain", "it's", `"$HOME" and $(id) and \n`, ""} {
		script := "eval \"$(cat)\"; printf '%s' \"$V\""
		cmd := exec.Command(sh, "-c", script)
		cmd.Stdin = strings.NewReader("V=" + shellQuote(v) + "\n")
		got, err := cmd.Output()
		if err != nil || string(got) != v {
			t.Errorf("eval of V=%s = %q, %v, want %q", shellQuote(v), got, err, v)
		}
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
			want: "permission denied: not an owner of acme/*", wantAuth: true, wantHint: "you must be an owner of every repository pattern"},
		{name: "session ended", status: 401, body: `{"error":"unauthorized","message":"token expired"}`,
			want: "the registry refused the session token: token expired", wantAuth: true, wantHint: "chainctl auth login"},
		{name: "ttl above the maximum", status: 400, body: `{"error":"invalid","message":"ttl 9000h0m0s is above the maximum of 8760h0m0s"}`,
			want: "ttl 9000h0m0s is above the maximum of 8760h0m0s", wantHint: "pass a shorter --ttl"},
		{name: "answer without a secret", status: 201, body: `{"id":"` + testID + `"}`, want: "create pull token: the registry's answer has no valid token id and secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens", Status: tt.status, Body: tt.body})
			ios, _, out, _ := iostreams.Test()
			err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, ""), Request: ciRequest, Format: FormatTable})
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

// saveSetup is a token cache with a login session for registry.test, a
// docker config directory and a chainctl executable, all temporary.
func saveSetup(t *testing.T) (*tokencache.Cache, *configuredocker.ConfigureDockerOptions, *iostreams.IOStreams) {
	t.Helper()
	cache, err := tokencache.Open(filepath.Join(t.TempDir(), "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Put("registry.test", tokencache.Entry{Kind: tokencache.KindSession, Token: apitest.Token, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "chainctl")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	return cache, &configuredocker.ConfigureDockerOptions{
		IO: ios, ConfigDir: filepath.Join(t.TempDir(), "docker"),
		Executable: func() (string, error) { return exe, nil },
		OpenCache:  func() (*tokencache.Cache, error) { return cache, nil },
	}, ios
}

func Test_createRunSave(t *testing.T) {
	cache, docker, ios := saveSetup(t)
	out, errOut := ios.Out.(interface{ String() string }), ios.ErrOut.(interface{ String() string })
	reg := apitest.New(t, apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens", WantBody: ciBody, Status: 201, Body: created})
	err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, ""), Request: ciRequest, Format: FormatTable, Save: true, Docker: docker})
	if err != nil {
		t.Fatalf("createRun(--save) = %v\nstderr: %s", err, errOut)
	}

	// The token is stored for docker, beside the session chainctl uses.
	stored, err := cache.Stored().Get("registry.test")
	if err != nil || stored.Username != testID || stored.Token != testSecret || !stored.Expiry.Equal(time.Date(2027, 1, 6, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("stored entry = %v, %v, want the token with its expiry", stored, err)
	}
	if sess, err := cache.Get("registry.test"); err != nil || sess.Kind != tokencache.KindSession || sess.Token != apitest.Token {
		t.Errorf("session after --save = %v, %v, want it untouched", sess, err)
	}
	// docker asks chainctl for registry.test.
	data, err := os.ReadFile(filepath.Join(docker.ConfigDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ CredHelpers map[string]string }
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.CredHelpers["registry.test"] != "chainctl" {
		t.Errorf("config.json = %s, want credHelpers registry.test: chainctl", data)
	}

	stdout, stderr := out.String(), errOut.String()
	if !strings.Contains(stdout, "password      "+testSecret+"\n") || strings.Contains(stdout, "docker login") {
		t.Errorf("stdout = %q, want the password and no docker login step (it is saved)", stdout)
	}
	for _, want := range []string{
		"✓ Saved pull token " + testID + " for registry.test: docker, crane, oras and skopeo on this machine now pull with it\n",
		"! docker now uses this pull-only token for registry.test instead of your chainctl session (chainctl's own commands keep using it): pushes from docker to registry.test will be refused\n",
		"  To go back: docker logout registry.test\n",
		"Configured " + filepath.Join(docker.ConfigDir, "config.json") + " to use chainctl for registry.test\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, testSecret) {
		t.Errorf("stderr holds the password:\n%s", stderr)
	}
}

// Test_createRunSaveNoCache: --save fails before the token is created
// when the token cache cannot be opened (the stub registry fails the test
// on any request).
func Test_createRunSaveNoCache(t *testing.T) {
	_, docker, ios := saveSetup(t)
	docker.OpenCache = func() (*tokencache.Cache, error) { return nil, errors.New("cache is broken") }
	reg := apitest.New(t)
	err := createRun(t.Context(), &CreateOptions{Remote: reg.Remote(ios, ""), Request: ciRequest, Save: true, Docker: docker})
	if err == nil || err.Error() != "cache is broken" {
		t.Errorf("createRun(--save) = %v, want the cache's error", err)
	}
}
