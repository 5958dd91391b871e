//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestClientDirectoriesTightened: chainctl's configuration and cache
// directories that already exist with loose modes (as a umask of 0, a
// careless chmod or a restored backup leaves them) are made 0700 by the
// first command that uses them, the credential helper included; before,
// only tokens/ and the files in it were.
func TestClientDirectoriesTightened(t *testing.T) {
	ctx, cancel := contextWithTimeout(t, time.Minute)
	defer cancel()
	for _, tt := range []struct {
		name string
		run  func(h *helperEnv)
		dirs []string // under the helper environment's root
	}{
		{"chainctl config", func(h *helperEnv) {
			cfg := filepath.Join(h.root, "config", "chainctl", "config.yaml")
			if err := os.WriteFile(cfg, []byte("registry: 127.0.0.1:1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(cfg, 0o666); err != nil {
				t.Fatal(err)
			}
			h.must(ctx, "", chainctlBin, "config", "get", "registry")
			if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("config.yaml after the command: mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
		}, []string{"config/chainctl"}},
		{"chainctl auth status", func(h *helperEnv) { h.cmd(ctx, "", chainctlBin, "auth", "status", "--registry", "127.0.0.1:1") },
			[]string{"cache/chainctl", "cache/chainctl/tokens"}},
		{"docker-credential-chainctl list", func(h *helperEnv) { h.must(ctx, "", "docker-credential-chainctl", "list") },
			[]string{"cache/chainctl", "cache/chainctl/tokens"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHelperEnv(t)
			for _, d := range tt.dirs {
				p := filepath.Join(h.root, d)
				if err := os.MkdirAll(p, 0o777); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, 0o777); err != nil {
					t.Fatal(err)
				}
			}
			tt.run(h)
			for _, d := range tt.dirs {
				fi, err := os.Stat(filepath.Join(h.root, d))
				if err != nil || fi.Mode().Perm() != 0o700 {
					t.Errorf("%s after the command: mode %v (%v), want 0700", d, fi.Mode().Perm(), err)
				}
			}
		})
	}
}
