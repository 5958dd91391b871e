package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestArgv0 builds the binary and runs it under both of its names.
func TestArgv0(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	bin := filepath.Join(dir, "chainctl"+exe)
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	helper := filepath.Join(dir, "docker-credential-chainctl"+exe)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// A copy rather than a link, which works on every system.
	if err := os.WriteFile(helper, b, 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		bin      string
		args     []string
		stdin    string
		wantCode int
		wantOut  string
	}{
		{name: "chainctl", bin: bin, args: []string{"version", "-o", "json"}, wantOut: `"go_version"`},
		{name: "chainctl error", bin: bin, args: []string{"nope"}, wantCode: 1},
		{name: "helper get", bin: helper, args: []string{"get"}, stdin: "localhost:5000\n", wantCode: 1, wantOut: "credentials not found in native keychain\n"},
		{name: "helper list", bin: helper, args: []string{"list"}, wantOut: "{}\n"},
	}
	// A home of its own and nothing else from the environment: the
	// developer's cached credentials and configuration, or a CI job's
	// ambient ones, must not change what the helper answers.
	home := t.TempDir()
	env := []string{"HOME=" + home, "USERPROFILE=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "LocalAppData=" + filepath.Join(home, "local"), "AppData=" + filepath.Join(home, "roaming")}
	for _, name := range []string{"PATH", "TMPDIR", "SystemRoot", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), tt.bin, tt.args...)
			cmd.Env = env
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			err := cmd.Run()
			code := 0
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("%s %q exit = %d, want %d", filepath.Base(tt.bin), tt.args, code, tt.wantCode)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("%s %q stdout = %q, want %q", filepath.Base(tt.bin), tt.args, stdout.String(), tt.wantOut)
			}
		})
	}
}
