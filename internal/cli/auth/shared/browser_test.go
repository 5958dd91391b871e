package shared

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestOpenBrowserEnv(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script")
	}
	dir := t.TempDir()
	got := filepath.Join(dir, "args")
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > \""+got+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	const u = "http://127.0.0.1:1/authorize?a=b&c=d"

	if err := OpenBrowser(context.Background(), env(map[string]string{EnvBrowser: script + " --new-window"}), u); err != nil {
		t.Fatalf("OpenBrowser() = %v", err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if want := "--new-window\n" + u + "\n"; string(b) != want {
		t.Errorf("browser got args %q, want %q", b, want)
	}

	err = OpenBrowser(context.Background(), env(map[string]string{EnvBrowser: "false"}), u)
	if err == nil || !strings.Contains(err.Error(), EnvBrowser) {
		t.Errorf("OpenBrowser(false) = %v, want an error naming $%s", err, EnvBrowser)
	}
	err = OpenBrowser(context.Background(), env(map[string]string{EnvBrowser: filepath.Join(dir, "missing")}), u)
	if err == nil {
		t.Error("OpenBrowser(missing command) = nil, want an error")
	}
	if runtime.GOOS == "linux" {
		if err := OpenBrowser(context.Background(), env(map[string]string{EnvBrowser: "  "}), u); err == nil || !strings.Contains(err.Error(), "no display") {
			t.Errorf("OpenBrowser(blank %s, no display) = %v, want no display", EnvBrowser, err)
		}
	}
}
