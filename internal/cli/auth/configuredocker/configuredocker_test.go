package configuredocker

import (
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	authshared "github.com/chainctl/chainctl/internal/cli/auth/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
)

func TestNewCmdConfigureDocker(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		configured     string // `chainctl config set registry`
		wantRegistries []string
		wantRemove     bool
		wantErr        string
	}{
		{name: "flag", args: []string{"--registry", "r.example"}, wantRegistries: []string{"r.example"}},
		{name: "env", env: map[string]string{"CHAINCTL_REGISTRY": "e.example"}, wantRegistries: []string{"e.example"}},
		{name: "configured registry", configured: "localhost:5000", wantRegistries: []string{"localhost:5000"}},
		{name: "env beats configured", env: map[string]string{"CHAINCTL_REGISTRY": "e.example"}, configured: "c.example", wantRegistries: []string{"e.example"}},
		{name: "flag beats env", args: []string{"--registry", "r.example"}, env: map[string]string{"CHAINCTL_REGISTRY": "e.example"}, wantRegistries: []string{"r.example"}},
		{name: "arguments", args: []string{"a.example", "b.example:5000"}, configured: "c.example", wantRegistries: []string{"a.example", "b.example:5000"}},
		{name: "comma list, repeated flag, duplicates", args: []string{"a.example,b.example", "--registry", "c.example", "--registry", "a.example,d.example"},
			wantRegistries: []string{"a.example", "b.example", "c.example", "d.example"}},
		{name: "remove", args: []string{"--remove", "a.example"}, wantRegistries: []string{"a.example"}, wantRemove: true},
		{name: "remove the configured registry", args: []string{"--remove"}, configured: "c.example", wantRegistries: []string{"c.example"}, wantRemove: true},
		{name: "no registry", wantErr: "no registry given"},
		{name: "pull token for two registries", args: []string{"a.example", "b.example", "--pull-token", "--repository", "x"}, wantErr: "one registry"},
		{name: "remove with pull token", args: []string{"--remove", "--pull-token", "--repository", "x"}, wantErr: "cannot be used together"},
		{name: "pull-token flags without --pull-token", args: []string{"a.example", "--repository", "x"}, wantErr: "add --pull-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			env := map[string]string{"DOCKER_CONFIG": "/d"}
			maps.Copy(env, tt.env)
			lookupEnv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			userConfig := func() (config.User, error) { return config.User{Registry: tt.configured}, nil }
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{}, LookupEnv: lookupEnv, UserConfig: userConfig,
				Registry: func(flag string) (session.Registry, error) {
					return authshared.ResolveRegistry(flag, lookupEnv, userConfig)
				}}
			var got *ConfigureDockerOptions
			cmd := NewCmdConfigureDocker(f, func(o *ConfigureDockerOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			if !slices.Equal(got.Registries, tt.wantRegistries) || got.Remove != tt.wantRemove || got.ConfigDir != "/d" {
				t.Errorf("Registries, Remove, ConfigDir = %q, %v, %q, want %q, %v, /d", got.Registries, got.Remove, got.ConfigDir, tt.wantRegistries, tt.wantRemove)
			}
		})
	}
}

// fakeExe makes an executable file named chainctl in a new directory.
func fakeExe(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "chainctl")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

func run(t *testing.T, dir, registry, exe string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	err := configureDockerRun(&ConfigureDockerOptions{
		IO: ios, Registry: registry, ConfigDir: dir,
		Executable: func() (string, error) { return exe, nil },
	})
	return out.String(), errOut.String(), err
}

func Test_configureDockerRun(t *testing.T) {
	const existing = `{
	"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}},
	"credsStore": "desktop",
	"credHelpers": {"gcr.io": "gcloud"},
	"proxies": {"default": {"httpProxy": "http://proxy:3128"}},
	"someFutureKey": [1, {"nested": true}]
}`
	tests := []struct {
		name     string
		initial  string // "" means no file
		mode     os.FileMode
		registry string
		wantHost string
	}{
		{name: "new file", registry: "127.0.0.1:5000", wantHost: "127.0.0.1:5000"},
		{name: "existing file keeps keys and mode", initial: existing, mode: 0o644, registry: "https://Registry.Example.com/", wantHost: "registry.example.com"},
		{name: "empty file", initial: " \n", mode: 0o640, registry: "r.example", wantHost: "r.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "docker")
			path := filepath.Join(dir, "config.json")
			wantMode := os.FileMode(0o600)
			if tt.initial != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.initial), tt.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil {
					t.Fatal(err)
				}
				wantMode = tt.mode
			}
			exe := fakeExe(t)
			out, errOut, err := run(t, dir, tt.registry, exe)
			if err != nil {
				t.Fatalf("configureDockerRun = %v (stderr %q)", err, errOut)
			}
			if !strings.Contains(out, "Configured "+path+" to use chainctl for "+tt.wantHost) {
				t.Errorf("output %q does not say what was configured", out)
			}
			link := filepath.Join(filepath.Dir(exe), "docker-credential-chainctl")
			if target, err := os.Readlink(link); err != nil || target != "chainctl" {
				t.Errorf("Readlink(%s) = %q, %v, want chainctl", link, target, err)
			}
			if !strings.Contains(out, "Created "+link) {
				t.Errorf("output %q does not mention the link", out)
			}

			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != wantMode {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), wantMode)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var cfg map[string]json.RawMessage
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatalf("config.json does not decode: %v\n%s", err, data)
			}
			var helpers map[string]string
			if err := json.Unmarshal(cfg["credHelpers"], &helpers); err != nil {
				t.Fatal(err)
			}
			if helpers[tt.wantHost] != "chainctl" {
				t.Errorf("credHelpers = %v, want %s: chainctl", helpers, tt.wantHost)
			}
			if tt.initial == existing {
				var before map[string]json.RawMessage
				if err := json.Unmarshal([]byte(existing), &before); err != nil {
					t.Fatal(err)
				}
				for k, v := range before {
					if k == "credHelpers" {
						continue
					}
					if !jsonEqual(t, cfg[k], v) {
						t.Errorf("key %q = %s, want %s", k, cfg[k], v)
					}
				}
				if helpers["gcr.io"] != "gcloud" || len(helpers) != 2 {
					t.Errorf("credHelpers = %v, want gcr.io kept", helpers)
				}
			}

			// Idempotent: a second run changes nothing and says so.
			out, _, err = run(t, dir, tt.registry, exe)
			if err != nil {
				t.Fatalf("second configureDockerRun = %v", err)
			}
			again, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(data) {
				t.Errorf("second run rewrote config.json:\n%s\nwas\n%s", again, data)
			}
			if !strings.Contains(out, "already uses chainctl for "+tt.wantHost+"; nothing to change") ||
				!strings.Contains(out, link+" already runs chainctl") {
				t.Errorf("second run output = %q, want it to say nothing changed", out)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("docker config dir has %d entries, want only config.json (temp files left?)", len(ents))
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func Test_configureDockerRunReplacesOtherHelper(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"credHelpers":{"r.example":"ecr-login"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, dir, "r.example", fakeExe(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `(it used "ecr-login" before)`) {
		t.Errorf("output %q does not name the helper it replaced", out)
	}
}

func Test_configureDockerRunErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, dir, "r.example", fakeExe(t)); err == nil || !strings.Contains(err.Error(), "fix or move the file") {
		t.Errorf("broken config.json: err = %v, want a read error", err)
	}
	if _, _, err := run(t, t.TempDir(), "ftp://r.example", fakeExe(t)); err == nil {
		t.Errorf("bad --registry: err = nil, want an error")
	}
}

// Test_configureDockerRunLinkNotWritable fails the link as a directory the
// user cannot write to would (injected: root, as in CI, can write anywhere).
func Test_configureDockerRunLinkNotWritable(t *testing.T) {
	exe := fakeExe(t)
	bin := filepath.Dir(exe)
	dir := t.TempDir()
	ios, _, _, errBuf := iostreams.Test()
	err := configureDockerRun(&ConfigureDockerOptions{
		IO: ios, Registry: "r.example", ConfigDir: dir,
		Executable: func() (string, error) { return exe, nil },
		Symlink: func(_, newname string) error {
			return &os.LinkError{Op: "symlink", New: newname, Err: fs.ErrPermission}
		},
	})
	errOut := errBuf.String()
	if err != cmdutil.ErrSilent {
		t.Errorf("err = %v, want ErrSilent", err)
	}
	link := filepath.Join(bin, "docker-credential-chainctl")
	want := "To create it, run:\n  sudo ln -s " + exe + " " + link + "\n"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr = %q, want it to contain %q", errOut, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Errorf("config.json not written: %v", err)
	}
}

func Test_configureDockerRunForeignLink(t *testing.T) {
	exe := fakeExe(t)
	other := filepath.Join(filepath.Dir(exe), "docker-credential-chainctl")
	if err := os.WriteFile(other, []byte("other"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, t.TempDir(), "r.example", exe)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "exists but is not this chainctl") || !strings.Contains(out, "ln -sf "+exe+" "+other) {
		t.Errorf("output = %q, want a warning with the fix", out)
	}
}

// Test_configureDockerRunStandaloneHelper: the release archives install the
// standalone docker-credential-chainctl next to chainctl; configure-docker
// recognises it by its version line and leaves it alone, while a program
// that only resembles it by name is still reported.
func Test_configureDockerRunStandaloneHelper(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as the helper")
	}
	for _, tt := range []struct {
		name, version, want string
	}{
		{"chainctl's helper", "docker-credential-chainctl (chainctl) v1.2.3", "is chainctl's credential helper (v1.2.3)"},
		{"another program", "docker-credential-chainctl (acme) v9", "exists but is not this chainctl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exe := fakeExe(t)
			helper := filepath.Join(filepath.Dir(exe), "docker-credential-chainctl")
			script := "#!/bin/sh\n[ \"$1\" = version ] && echo '" + tt.version + "'\n"
			if err := os.WriteFile(helper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			out, _, err := run(t, t.TempDir(), "r.example", exe)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output = %q, want %q", out, tt.want)
			}
			if b, _ := os.ReadFile(helper); string(b) != script {
				t.Error("the helper was replaced")
			}
		})
	}
}

// readHelpers returns the credHelpers of the docker config file at path,
// and whether the file has the key at all.
func readHelpers(t *testing.T, path string) (map[string]string, map[string]json.RawMessage) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config.json does not decode: %v\n%s", err, data)
	}
	helpers := map[string]string{}
	if raw, ok := cfg["credHelpers"]; ok {
		if err := json.Unmarshal(raw, &helpers); err != nil {
			t.Fatal(err)
		}
	}
	return helpers, cfg
}

func Test_configureDockerRunSeveralThenRemove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"auths":{"ghcr.io":{}},"credHelpers":{"gcr.io":"gcloud"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	exe := fakeExe(t)
	do := func(remove bool, registries ...string) string {
		t.Helper()
		ios, _, out, errOut := iostreams.Test()
		err := configureDockerRun(&ConfigureDockerOptions{
			IO: ios, Registries: registries, Remove: remove, ConfigDir: dir,
			Executable: func() (string, error) { return exe, nil },
		})
		if err != nil {
			t.Fatalf("configureDockerRun(remove=%v, %q) = %v (stderr %q)", remove, registries, err, errOut)
		}
		return out.String()
	}

	out := do(false, "a.example", "https://B.example:5000/", "localhost:5000")
	for _, h := range []string{"a.example", "b.example:5000", "localhost:5000"} {
		if !strings.Contains(out, "Configured "+path+" to use chainctl for "+h+"\n") {
			t.Errorf("output %q does not say %s was configured", out, h)
		}
	}
	if n := strings.Count(out, "Created "); n != 1 {
		t.Errorf("output %q creates the helper link %d times, want once", out, n)
	}
	helpers, _ := readHelpers(t, path)
	want := map[string]string{"gcr.io": "gcloud", "a.example": "chainctl", "b.example:5000": "chainctl", "localhost:5000": "chainctl"}
	if !maps.Equal(helpers, want) {
		t.Errorf("credHelpers = %v, want %v", helpers, want)
	}

	out = do(true, "b.example:5000", "gcr.io", "never.example")
	for _, w := range []string{
		"Removed chainctl for b.example:5000 from " + path,
		path + ` uses "gcloud", not chainctl, for gcr.io; left as it is`,
		path + " does not use chainctl for never.example; nothing to change",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output %q does not contain %q", out, w)
		}
	}
	helpers, cfg := readHelpers(t, path)
	delete(want, "b.example:5000")
	if !maps.Equal(helpers, want) {
		t.Errorf("after --remove, credHelpers = %v, want %v", helpers, want)
	}
	if _, ok := cfg["auths"]; !ok {
		t.Errorf("--remove dropped other keys: %v", cfg)
	}

	do(true, "a.example", "localhost:5000")
	if helpers, cfg := readHelpers(t, path); !maps.Equal(helpers, map[string]string{"gcr.io": "gcloud"}) || cfg["auths"] == nil {
		t.Errorf("after removing the rest, config = %v, credHelpers %v", cfg, helpers)
	}
	do(true, "gcr.io")
}

func Test_removeRunWithoutFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docker")
	ios, _, out, _ := iostreams.Test()
	if err := removeRun(&ConfigureDockerOptions{IO: ios, Registries: []string{"a.example"}, ConfigDir: dir}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing to change") {
		t.Errorf("output = %q", out.String())
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("--remove created %s", dir)
	}
}

func Test_removeRunDropsEmptyCredHelpers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"credHelpers":{"a.example":"chainctl"}}`), 0o640); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	if err := removeRun(&ConfigureDockerOptions{IO: ios, Registries: []string{"a.example"}, ConfigDir: dir}); err != nil {
		t.Fatal(err)
	}
	_, cfg := readHelpers(t, path)
	if len(cfg) != 0 {
		t.Errorf("config = %v, want {}", cfg)
	}
	if fi, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, %v, want 0640 kept", fi.Mode().Perm(), err)
	}
}
