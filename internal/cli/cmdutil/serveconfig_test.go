package cmdutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func TestLoadServeConfig(t *testing.T) {
	tests := []struct {
		name, file string
		wantErr    []string
		wantStderr string
	}{
		{name: "snake_case", file: "data_dir: /srv/d\n"},
		{name: "deprecated kebab-case", file: "data-dir: /srv/d\n", wantStderr: `warning: configuration file FILE: key "data-dir" is deprecated; write "data_dir" (keys are snake_case, as in the auth and events sections)`},
		{name: "every problem", file: "data_dir: /srv/d\nupload_ttl: 1s\nblob_redirect: x\n",
			wantErr: []string{"invalid configuration: 2 problems:", "upload-ttl 1s", `blob-redirect "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "serve.yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			ios, _, _, stderr := iostreams.Test()
			f := &Factory{IOStreams: ios, LookupEnv: func(k string) (string, bool) {
				if k == "HOME" {
					return "/home/u", true
				}
				return "", false
			}}
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			config.AddServeFlags(fs)
			if err := fs.Parse([]string{"--config", path}); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadServeConfig(f, fs)
			if len(tt.wantErr) > 0 {
				var he *HintError
				if !errors.As(err, &he) {
					t.Fatalf("LoadServeConfig = %v, want a HintError", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("LoadServeConfig = %q, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil || cfg.DataDir != "/srv/d" {
				t.Fatalf("LoadServeConfig = %+v, %v", cfg, err)
			}
			want := strings.ReplaceAll(tt.wantStderr, "FILE", path)
			if got := strings.TrimSpace(stderr.String()); got != want {
				t.Errorf("stderr = %q, want %q", got, want)
			}
		})
	}
}
