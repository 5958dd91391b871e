package fsck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func TestNewCmdFsck(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
		dryRun  bool
		rate    int64
	}{
		{name: "defaults", args: []string{"--data-dir", dir}},
		{name: "dry run and rate", args: []string{"--data-dir", dir, "--dry-run", "--rate", "50MiB"}, dryRun: true, rate: 50 << 20},
		{name: "bad rate", args: []string{"--data-dir", dir, "--rate", "fast"}, wantErr: `--rate "fast"`},
		{name: "argument", args: []string{"extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputJSON},
				LookupEnv: func(string) (string, bool) { return "", false }}
			var got *FsckOptions
			cmd := NewCmdFsck(f, func(_ context.Context, o *FsckOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetOut(&bytes.Buffer{})
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
			if got.DryRun != tt.dryRun || got.Rate != tt.rate || got.Output != cmdutil.OutputJSON || got.Config.Storage.Path != filepath.Join(dir, "blobs") {
				t.Errorf("options = %+v, want dry run %v, rate %d, json, storage under --data-dir", got, tt.dryRun, tt.rate)
			}
		})
	}
}

func Test_fsckRun(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Serve{
		Storage:  config.Storage{Type: config.StorageFile, Path: filepath.Join(dir, "blobs")},
		Database: config.Database{Type: config.DatabaseSQLite, Path: filepath.Join(dir, "registry.db")},
	}
	// No registry there: fsck refuses to create one.
	ios, _, _, _ := iostreams.Test()
	if err := fsckRun(t.Context(), &FsckOptions{IO: ios, Config: cfg}); !errors.Is(err, backend.ErrNoRegistry) {
		t.Fatalf("fsckRun(no registry) = %v, want ErrNoRegistry", err)
	}
	db, err := sqlite.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	blobs, err := fs.New(cfg.Storage.Path)
	if err != nil {
		t.Fatal(err)
	}
	good, bad := digest.FromString("good"), digest.FromString("bad!")
	for d, c := range map[digest.Digest]string{good: "good", bad: "bad!"} {
		if _, err := blobs.Put(t.Context(), d, strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}

	// All sound.
	ios, _, out, _ := iostreams.Test()
	if err := fsckRun(t.Context(), &FsckOptions{IO: ios, Config: cfg}); err != nil {
		t.Fatalf("fsckRun = %v", err)
	}
	if !strings.Contains(out.String(), "2 blobs (8 B) match their digests") {
		t.Errorf("output = %q", out)
	}

	// One corrupt: a dry run reports it and exits 1 (ErrSilent, the report
	// said it); then a real run quarantines it.
	path := filepath.Join(cfg.Storage.Path, "blobs", "sha256", bad.Encoded()[:2], bad.Encoded())
	if err := os.WriteFile(path, []byte("BAD!"), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ = iostreams.Test()
	if err := fsckRun(t.Context(), &FsckOptions{IO: ios, Config: cfg, DryRun: true}); !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("fsckRun(dry run, corrupt) = %v, want ErrSilent", err)
	}
	if got := out.String(); !strings.Contains(got, "1 of 2 blobs do not match their digest, not quarantined (dry run)") || !strings.Contains(got, string(bad)) {
		t.Errorf("dry run output = %q", got)
	}
	ios, _, out, _ = iostreams.Test()
	if err := fsckRun(t.Context(), &FsckOptions{IO: ios, Config: cfg, Output: cmdutil.OutputJSON}); !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("fsckRun(corrupt) = %v, want ErrSilent", err)
	}
	var rep JSON
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if rep.Blobs != 2 || len(rep.Corrupt) != 1 || rep.Corrupt[0].Digest != string(bad) || rep.Corrupt[0].HashesTo != string(digest.FromString("BAD!")) ||
		!strings.HasPrefix(rep.Corrupt[0].Quarantined, filepath.Join(cfg.Storage.Path, "quarantine")) {
		t.Errorf("report = %+v, want the corrupt blob quarantined", rep)
	}
	if _, err := blobs.Stat(t.Context(), bad); err == nil {
		t.Error("the corrupt blob is still served")
	}

	// S3 storage: nothing to check, said plainly.
	s3 := *cfg
	s3.Storage = config.Storage{Type: config.StorageS3}
	if err := fsckRun(t.Context(), &FsckOptions{IO: ios, Config: &s3}); err == nil || !strings.Contains(err.Error(), "checks file storage") {
		t.Errorf("fsckRun(s3) = %v", err)
	}
}
