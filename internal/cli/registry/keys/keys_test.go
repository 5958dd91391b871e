package keys

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func TestNewCmdRotate(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputJSON},
		LookupEnv: func(string) (string, bool) { return "", false }}
	var got *RotateOptions
	cmd := NewCmdRotate(f, func(_ context.Context, o *RotateOptions) error { got = o; return nil })
	dir := t.TempDir()
	cmd.SetArgs([]string{"--data-dir", dir})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Config.Database.Path != filepath.Join(dir, "registry.db") || got.Output != cmdutil.OutputJSON {
		t.Errorf("options = %+v, database %s", got, got.Config.Database)
	}
	// Only the flags rotate uses, not every serve flag.
	for name, want := range map[string]bool{"config": true, "data-dir": true, "database": true, config.KeyKEKFile: true,
		"storage": false, "listen": false, "dev": false, "tls-cert": false, "blob-redirect": false} {
		if got := cmd.Flags().Lookup(name) != nil; got != want {
			t.Errorf("rotate has --%s: %v, want %v", name, got, want)
		}
	}
	cmd = NewCmdRotate(f, func(context.Context, *RotateOptions) error { return nil })
	cmd.SetArgs([]string{"extra"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil {
		t.Error("an argument was accepted")
	}
}

func Test_rotateRun(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Serve{
		ExternalURL:   "http://127.0.0.1:5000",
		Database:      config.Database{Type: config.DatabaseSQLite, Path: filepath.Join(dir, "registry.db")},
		KeyEncryption: config.KeyEncryption{File: filepath.Join(dir, config.DefaultKEKFileName), Default: true},
		Auth:          config.Auth{AccessTokenTTL: config.DefaultAccessTokenTTL, MaxSessionTTL: config.DefaultMaxSessionTTL},
	}
	// No database: rotate refuses to create a registry with a key in it.
	ios, _, _, _ := iostreams.Test()
	err := rotateRun(t.Context(), &RotateOptions{IO: ios, Config: cfg})
	if !errors.Is(err, backend.ErrNoRegistry) || !strings.Contains(err.Error(), cfg.Database.Path) {
		t.Fatalf("rotateRun(no database) = %v, want ErrNoRegistry naming %s", err, cfg.Database.Path)
	}
	if _, err := os.Stat(cfg.Database.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("rotateRun(no database) created %s: %v", cfg.Database.Path, err)
	}
	db, err := sqlite.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	kids := map[string]bool{}
	for i := range 2 {
		ios, _, out, _ := iostreams.Test()
		if err := rotateRun(t.Context(), &RotateOptions{IO: ios, Config: cfg, Output: cmdutil.OutputJSON}); err != nil {
			t.Fatalf("rotate %d: %v", i, err)
		}
		var r RotateJSON
		if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.KeyID == "" {
			t.Fatalf("output %q: %v", out, err)
		}
		kids[r.KeyID] = true
	}
	if len(kids) != 2 {
		t.Errorf("two rotations gave keys %v, want two different", kids)
	}
	db, err = sqlite.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := db.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range keys {
		if k.Active() {
			active++
		}
		// Sealed at rest: what the database holds is no private key.
		if _, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err == nil || k.KEK == "" {
			t.Errorf("stored %v: sealed under %q; parses as a private key: %v", k, k.KEK, err == nil)
		}
	}
	// The first start's key and the two rotations: three keys, one active.
	if len(keys) != 3 || active != 1 {
		t.Errorf("keys after two rotations: %d stored, %d active; want 3 and 1", len(keys), active)
	}

	ios, _, out, _ := iostreams.Test()
	if err := rotateRun(t.Context(), &RotateOptions{IO: ios, Config: cfg, Output: cmdutil.OutputTable}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "new signing key") {
		t.Errorf("table output = %q", out)
	}
}
