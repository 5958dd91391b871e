package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
)

type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func TestNewCmdServe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("expectations use Unix paths")
	}
	home := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(cfgFile, []byte("listen: 127.0.0.1:6000\ndata_dir: /srv/from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		env         env
		debug       bool
		wantListen  string
		wantDataDir string
		wantStorage string
		wantDB      string
		wantTLS     bool
		wantErr     string
	}{
		{
			name:        "defaults",
			env:         env{"HOME": home},
			wantListen:  "127.0.0.1:5000",
			wantDataDir: filepath.Join(home, ".local/share/chainctl"),
			wantStorage: "file://" + filepath.Join(home, ".local/share/chainctl/blobs"),
			wantDB:      "sqlite://" + filepath.Join(home, ".local/share/chainctl/registry.db"),
		},
		{
			name:        "flags",
			args:        []string{"--listen", "0.0.0.0:5001", "--data-dir", "/srv/c", "--storage", "file:///blobs", "--database", "sqlite:///db/r.db", "--tls-cert", "/c.pem", "--tls-key", "/k.pem"},
			env:         env{"HOME": home},
			wantListen:  "0.0.0.0:5001",
			wantDataDir: "/srv/c",
			wantStorage: "file:///blobs",
			wantDB:      "sqlite:///db/r.db",
			wantTLS:     true,
		},
		{
			name:        "environment and file",
			args:        []string{"--config", cfgFile},
			env:         env{"HOME": home, "CHAINCTL_LISTEN": "127.0.0.1:6001"},
			wantListen:  "127.0.0.1:6001",
			wantDataDir: "/srv/from-file",
			wantStorage: "file:///srv/from-file/blobs",
			wantDB:      "sqlite:///srv/from-file/registry.db",
		},
		{
			name:        "debug",
			debug:       true,
			env:         env{"HOME": home},
			wantListen:  "127.0.0.1:5000",
			wantDataDir: filepath.Join(home, ".local/share/chainctl"),
			wantStorage: "file://" + filepath.Join(home, ".local/share/chainctl/blobs"),
			wantDB:      "sqlite://" + filepath.Join(home, ".local/share/chainctl/registry.db"),
		},
		{name: "bad scheme", args: []string{"--database", "mysql://db"}, env: env{"HOME": home}, wantErr: "mysql:// databases are not supported"},
		{name: "half TLS", args: []string{"--tls-key", "/k.pem"}, env: env{"HOME": home}, wantErr: "tls-key is set but tls-cert is not"},
		{name: "unknown flag", args: []string{"--port", "5000"}, env: env{"HOME": home}, wantErr: "unknown flag: --port"},
		{name: "argument", args: []string{"extra"}, env: env{"HOME": home}, wantErr: `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{
				IOStreams: ios,
				Globals:   &cmdutil.Globals{Output: cmdutil.OutputTable, Debug: tt.debug},
				LookupEnv: tt.env.lookup,
			}
			var got *ServeOptions
			cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute(%q) = %v, want %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute(%q) = %v", tt.args, err)
			}
			c := got.Config
			if c.Listen != tt.wantListen {
				t.Errorf("Listen = %q, want %q", c.Listen, tt.wantListen)
			}
			if c.DataDir != tt.wantDataDir {
				t.Errorf("DataDir = %q, want %q", c.DataDir, tt.wantDataDir)
			}
			if c.Storage.String() != tt.wantStorage {
				t.Errorf("Storage = %q, want %q", c.Storage, tt.wantStorage)
			}
			if c.Database.String() != tt.wantDB {
				t.Errorf("Database = %q, want %q", c.Database, tt.wantDB)
			}
			if c.TLS.Enabled() != tt.wantTLS {
				t.Errorf("TLS.Enabled() = %v, want %v", c.TLS.Enabled(), tt.wantTLS)
			}
			if got.Debug != tt.debug {
				t.Errorf("Debug = %v, want %v", got.Debug, tt.debug)
			}
		})
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Test_serveRun starts the real server on the embedded default (fs + SQLite
// in a temporary data directory), talks to it, cancels it and expects a
// clean exit.
func Test_serveRun(t *testing.T) {
	tests := []struct {
		name       string
		tty        bool
		wantBanner []string
	}{
		{name: "piped: JSON logs", tty: false, wantBanner: []string{`"msg":"chainctl registry listening on http://127.0.0.1:`, `"data_dir":`, `"storage":"file://`, `"database":"sqlite://`}},
		{name: "terminal: styled banner", tty: true, wantBanner: []string{"chainctl registry listening on", "\x1b[", "http://127.0.0.1:", " · data in ", "blobs: file://", "metadata: sqlite://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			cfg := testConfig(dataDir)
			ios, _, out, errOut := iostreams.Test()
			ios.SetStderrTTY(tt.tty)
			urls := make(chan string, 1)
			opts := &ServeOptions{IO: ios, Config: cfg, Debug: true, onListen: func(u string) { urls <- u }}

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- serveRun(ctx, opts) }()

			var base string
			select {
			case base = <-urls:
			case err := <-done:
				t.Fatalf("serveRun() = %v before listening", err)
			case <-time.After(30 * time.Second):
				t.Fatal("serveRun did not start listening")
			}

			checks := []struct {
				path       string
				wantStatus int
			}{
				{"/healthz", 200},
				{"/readyz", 200},
				{"/v2/", 401}, // no token: the challenge
				{"/.well-known/openid-configuration", 200},
				{"/.well-known/chainctl-configuration", 200},
				{"/metrics", 200},
			}
			for _, c := range checks {
				if status, body := get(t, base+c.path); status != c.wantStatus {
					t.Errorf("GET %s = %d %q, want %d", c.path, status, body, c.wantStatus)
				}
			}
			_, metrics := get(t, base+"/metrics")
			if want := `chainctl_http_requests_total{method="GET",route="base",status="401"} 1`; !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serveRun() = %v, want a clean exit", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serveRun did not return after cancel")
			}

			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out)
			}
			logs := errOut.String()
			for _, want := range tt.wantBanner {
				if !strings.Contains(logs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, logs)
				}
			}
			if !strings.Contains(logs, "shut down cleanly") {
				t.Errorf("stderr lacks the shutdown message:\n%s", logs)
			}
			for _, p := range []string{filepath.Join(dataDir, "blobs"), filepath.Join(dataDir, "registry.db")} {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("data not created: %v", err)
				}
			}
		})
	}
}

func Test_serveRunAddressInUse(t *testing.T) {
	cfg := testConfig(t.TempDir())
	ios, _, _, _ := iostreams.Test()
	urls := make(chan string, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serveRun(ctx, &ServeOptions{IO: ios, Config: cfg, onListen: func(u string) { urls <- u }})
	}()
	var u string
	select {
	case u = <-urls:
	case err := <-done:
		t.Fatalf("first serveRun() = %v", err)
	}

	second := *cfg
	second.Listen = strings.TrimPrefix(u, "http://")
	second.Storage.Path = filepath.Join(t.TempDir(), "blobs")
	second.Database.Path = filepath.Join(t.TempDir(), "registry.db")
	ios2, _, _, _ := iostreams.Test()
	err := serveRun(t.Context(), &ServeOptions{IO: ios2, Config: &second})
	var hint *cmdutil.HintError
	if err == nil || !errors.As(err, &hint) || !strings.Contains(hint.Hint, "--listen") {
		t.Errorf("serveRun on a used port = %v, want a hint about --listen", err)
	}
	cancel()
	<-done
}

// testConfig is what the config loader makes of --listen 127.0.0.1:0
// --data-dir dataDir, with no configuration file.
func testConfig(dataDir string) *config.Serve {
	return &config.Serve{
		Listen:        "127.0.0.1:0",
		ExternalURL:   "http://127.0.0.1:0",
		DataDir:       dataDir,
		Storage:       config.Storage{Type: config.StorageFile, Path: filepath.Join(dataDir, "blobs")},
		Database:      config.Database{Type: config.DatabaseSQLite, Path: filepath.Join(dataDir, "registry.db")},
		KeyEncryption: config.KeyEncryption{File: filepath.Join(dataDir, config.DefaultKEKFileName), Default: true},
		Auth: config.Auth{
			Service:        "127.0.0.1:0",
			AccessTokenTTL: config.DefaultAccessTokenTTL,
			SessionTTL:     config.DefaultSessionTTL,
			MaxSessionTTL:  config.DefaultMaxSessionTTL,
			KeyRotation:    config.DefaultKeyRotation,
		},
	}
}

// Test_serveRunDev checks dev mode: the development identity provider is
// served, and the session written for the development user (0600) logs a
// client in as the owner of every repository.
func Test_serveRunDev(t *testing.T) {
	dataDir := t.TempDir()
	cfg := testConfig(dataDir)
	cfg.Dev = true
	ios, _, _, errOut := iostreams.Test()
	urls := make(chan string, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serveRun(ctx, &ServeOptions{IO: ios, Config: cfg, onListen: func(u string) { urls <- u }})
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("serveRun() = %v", err)
	}
	host := strings.TrimPrefix(base, "http://")

	path := filepath.Join(dataDir, devSessionFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev session file: %v, mode %v; want 0600", err, fi)
	}
	session, _ := os.ReadFile(path)
	if strings.Contains(errOut.String(), strings.TrimSpace(string(session))) {
		t.Error("the dev session token reached stderr")
	}
	if !strings.Contains(errOut.String(), "DEVELOPMENT MODE") {
		t.Errorf("no dev-mode warning in:\n%s", errOut)
	}
	if _, port, _ := net.SplitHostPort(host); !strings.Contains(errOut.String(), "chainctl auth login --dev --registry localhost:"+port) {
		t.Errorf("the dev-mode warning does not say how to log in:\n%s", errOut)
	}
	if status, _ := get(t, base+"/dev-idp/.well-known/openid-configuration"); status != 200 {
		t.Errorf("dev IdP discovery = %d", status)
	}

	req, _ := http.NewRequest("GET", base+"/token?service="+host+"&scope=repository:any/repo:pull,push", nil)
	req.SetBasicAuth("dev", strings.TrimSpace(string(session)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token, Scope string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.Scope != "repository:any/repo:pull,push" {
		t.Fatalf("/token with the dev session = %d %+v", resp.StatusCode, tok)
	}
	req, _ = http.NewRequest("POST", base+"/v2/any/repo/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Errorf("push as the dev user = %d, want 202", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveRun() = %v", err)
	}
}
