package gc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func TestNewCmdGC(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
		dryRun  bool
		grace   time.Duration
	}{
		{name: "defaults", args: []string{"--data-dir", dir}, grace: 24 * time.Hour},
		{name: "dry run and grace", args: []string{"--data-dir", dir, "--dry-run", "--grace", "90m"}, dryRun: true, grace: 90 * time.Minute},
		{name: "grace too short", args: []string{"--data-dir", dir, "--grace", "30s"}, wantErr: "--grace must be at least 1m0s"},
		{name: "argument", args: []string{"extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputJSON},
				LookupEnv: func(string) (string, bool) { return "", false }}
			var got *GCOptions
			cmd := NewCmdGC(f, func(_ context.Context, o *GCOptions) error { got = o; return nil })
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
			if got.DryRun != tt.dryRun || got.Grace != tt.grace || got.Output != cmdutil.OutputJSON {
				t.Errorf("options = %+v, want dry run %v, grace %s, json", got, tt.dryRun, tt.grace)
			}
			if got.Config.Storage.Path != filepath.Join(dir, "blobs") || got.Config.Database.Path != filepath.Join(dir, "registry.db") {
				t.Errorf("storage %s, database %s: not under --data-dir", got.Config.Storage, got.Config.Database)
			}
		})
	}
}

func Test_gcRun(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Serve{
		Storage:  config.Storage{Type: config.StorageFile, Path: filepath.Join(dir, "blobs")},
		Database: config.Database{Type: config.DatabaseSQLite, Path: filepath.Join(dir, "registry.db")},
	}
	blobs, err := fs.New(cfg.Storage.Path)
	if err != nil {
		t.Fatal(err)
	}
	orphan := digest.FromString("orphan")
	if _, err := blobs.Put(t.Context(), orphan, strings.NewReader("orphan")); err != nil {
		t.Fatal(err)
	}
	// The blob must be older than the grace period.
	old := time.Now().Add(-2 * time.Hour)
	path := filepath.Join(cfg.Storage.Path, "blobs", "sha256", orphan.Encoded()[:2], orphan.Encoded())
	if err := chtimes(path, old); err != nil {
		t.Fatal(err)
	}

	// No database yet: gc refuses to create the registry it was to read.
	ios, _, _, _ := iostreams.Test()
	err = gcRun(t.Context(), &GCOptions{IO: ios, Config: cfg, DryRun: true, Grace: time.Hour})
	var hint *cmdutil.HintError
	if !errors.Is(err, backend.ErrNoRegistry) || !errors.As(err, &hint) || !strings.Contains(err.Error(), cfg.Database.Path) {
		t.Fatalf("gcRun(no database) = %v, want ErrNoRegistry naming %s, with a hint", err, cfg.Database.Path)
	}
	if _, err := os.Stat(cfg.Database.Path); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("gcRun(no database) created %s: %v", cfg.Database.Path, err)
	}
	db, err := sqlite.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A dry run's progress says what it would remove.
	ios, _, _, errOut := iostreams.Test()
	if err := gcRun(t.Context(), &GCOptions{IO: ios, Config: cfg, DryRun: true, Grace: time.Hour}); err != nil {
		t.Fatalf("gcRun(dry run) = %v", err)
	}
	if got := errOut.String(); !strings.Contains(got, "blobs: examined 1, would remove 1, 6 B\n") || strings.Contains(got, "removed") {
		t.Errorf("dry run progress = %q, want \"would remove\"", got)
	}

	// A dry run, as JSON: nothing deleted, the blob reported.
	ios, _, out, errOut := iostreams.Test()
	opts := &GCOptions{IO: ios, Config: cfg, Output: cmdutil.OutputJSON, DryRun: true, Grace: time.Hour}
	if err := gcRun(t.Context(), opts); err != nil {
		t.Fatalf("gcRun(dry run) = %v", err)
	}
	var rep JSON
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if !rep.DryRun || rep.Blobs.Count != 1 || rep.Blobs.Bytes != 6 || rep.Grace != "1h0m0s" {
		t.Errorf("dry run report = %+v, want 1 blob of 6 bytes", rep)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr with -o json and no terminal = %q, want nothing", errOut)
	}
	if _, err := blobs.Stat(t.Context(), orphan); err != nil {
		t.Fatalf("the dry run deleted the blob: %v", err)
	}

	// For people, without a terminal: plain progress lines on stderr.
	ios, _, out, errOut = iostreams.Test()
	opts = &GCOptions{IO: ios, Config: cfg, Output: cmdutil.OutputTable, Grace: time.Hour}
	if err := gcRun(t.Context(), opts); err != nil {
		t.Fatalf("gcRun = %v", err)
	}
	if !strings.Contains(out.String(), "garbage collected") || !strings.Contains(out.String(), "freed 6 B of blobs") {
		t.Errorf("output = %q", out)
	}
	if !strings.Contains(errOut.String(), "blobs: examined 1, removed 1, 6 B\n") || strings.Contains(errOut.String(), "\r") {
		t.Errorf("progress = %q, want plain lines", errOut)
	}
	if _, err := blobs.Stat(t.Context(), orphan); err == nil {
		t.Errorf("the blob survived gc")
	}
}

func TestProgressOnTerminal(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetStderrTTY(true)
	p := newProgress(ios, true, false)
	p.update(gcProgress("manifests", 1, 3))
	p.update(gcProgress("blobs", 1, 2))
	p.done()
	got := errOut.String()
	if !strings.Contains(got, "\r\033[K") || !strings.Contains(got, "3/3 blobs: examined 2") || !strings.HasSuffix(got, "\n") {
		t.Errorf("terminal progress = %q", got)
	}
}
