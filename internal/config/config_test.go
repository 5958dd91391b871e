package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// env is a fake environment.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "chainctl.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, args []string, e env) (*Serve, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	AddServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%q) = %v", args, err)
	}
	return LoadServe(fs, WithLookupEnv(e.lookup), WithGOOS(runtime.GOOS))
}

func TestLoadServePrecedence(t *testing.T) {
	home := t.TempDir()
	file := writeFile(t, "listen: 127.0.0.1:7001\ndata_dir: /from/file\ntls_cert: /file/cert.pem\ntls_key: /file/key.pem\n")
	tests := []struct {
		name       string
		args       []string
		env        env
		wantListen string
		wantData   string
		wantCert   string
	}{
		{
			name:       "defaults",
			env:        env{"HOME": home},
			wantListen: "127.0.0.1:5000",
			wantData:   filepath.Join(home, ".local", "share", "chainctl"),
		},
		{
			name:       "file over default",
			args:       []string{"--config", file},
			env:        env{"HOME": home},
			wantListen: "127.0.0.1:7001",
			wantData:   "/from/file",
			wantCert:   "/file/cert.pem",
		},
		{
			name:       "config file from the environment",
			env:        env{"HOME": home, "CHAINCTL_CONFIG": file},
			wantListen: "127.0.0.1:7001",
			wantData:   "/from/file",
			wantCert:   "/file/cert.pem",
		},
		{
			name:       "env over file",
			args:       []string{"--config", file},
			env:        env{"HOME": home, "CHAINCTL_LISTEN": "127.0.0.1:7002", "CHAINCTL_DATA_DIR": "/from/env"},
			wantListen: "127.0.0.1:7002",
			wantData:   "/from/env",
			wantCert:   "/file/cert.pem",
		},
		{
			name:       "empty env does not override file",
			args:       []string{"--config", file},
			env:        env{"HOME": home, "CHAINCTL_LISTEN": ""},
			wantListen: "127.0.0.1:7001",
			wantData:   "/from/file",
			wantCert:   "/file/cert.pem",
		},
		{
			name:       "flag over env and file",
			args:       []string{"--config", file, "--listen", "127.0.0.1:7003", "--data-dir", "/from/flag"},
			env:        env{"HOME": home, "CHAINCTL_LISTEN": "127.0.0.1:7002", "CHAINCTL_DATA_DIR": "/from/env"},
			wantListen: "127.0.0.1:7003",
			wantData:   "/from/flag",
			wantCert:   "/file/cert.pem",
		},
		{
			name:       "flag set to the default value still wins",
			args:       []string{"--listen", "127.0.0.1:5000"},
			env:        env{"HOME": home, "CHAINCTL_LISTEN": "127.0.0.1:7002"},
			wantListen: "127.0.0.1:5000",
			wantData:   filepath.Join(home, ".local", "share", "chainctl"),
		},
		{
			name:       "env TLS over file TLS",
			args:       []string{"--config", file},
			env:        env{"HOME": home, "CHAINCTL_TLS_CERT": "/env/cert.pem", "CHAINCTL_TLS_KEY": "/env/key.pem"},
			wantListen: "127.0.0.1:7001",
			wantData:   "/from/file",
			wantCert:   "/env/cert.pem",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
				t.Skip("expectations use Unix paths and the XDG layout")
			}
			cfg, err := load(t, tt.args, tt.env)
			if err != nil {
				t.Fatalf("LoadServe(%q) = %v", tt.args, err)
			}
			if cfg.Listen != tt.wantListen {
				t.Errorf("Listen = %q, want %q", cfg.Listen, tt.wantListen)
			}
			if cfg.DataDir != tt.wantData {
				t.Errorf("DataDir = %q, want %q", cfg.DataDir, tt.wantData)
			}
			wantStorage := Storage{Type: StorageFile, Path: filepath.Join(tt.wantData, "blobs")}
			if cfg.Storage != wantStorage {
				t.Errorf("Storage = %+v, want %+v", cfg.Storage, wantStorage)
			}
			wantDB := Database{Type: DatabaseSQLite, Path: filepath.Join(tt.wantData, "registry.db")}
			if cfg.Database != wantDB {
				t.Errorf("Database = %+v, want %+v", cfg.Database, wantDB)
			}
			if cfg.TLS.CertFile != tt.wantCert {
				t.Errorf("TLS.CertFile = %q, want %q", cfg.TLS.CertFile, tt.wantCert)
			}
			if cfg.TLS.Enabled() != (tt.wantCert != "") {
				t.Errorf("TLS.Enabled() = %v, want %v", cfg.TLS.Enabled(), tt.wantCert != "")
			}
		})
	}
}

func TestLoadServeLocations(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("expectations use Unix paths")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		args         []string
		env          env
		wantStorage  string
		wantDatabase string
	}{
		{name: "file URL absolute", args: []string{"--storage", "file:///srv/blobs"}, wantStorage: "file:///srv/blobs"},
		{name: "file URL sync", args: []string{"--storage", "file:///srv/blobs?sync=true"}, wantStorage: "file:///srv/blobs?sync=true"},
		{name: "file URL sync off", args: []string{"--storage", "file:///srv/blobs?sync=0"}, wantStorage: "file:///srv/blobs"},
		{name: "file URL relative", args: []string{"--storage", "file://blobs"}, wantStorage: "file://" + filepath.Join(wd, "blobs")},
		{name: "storage plain path", args: []string{"--storage", "/srv/b"}, wantStorage: "file:///srv/b"},
		{name: "storage scheme is case-insensitive", args: []string{"--storage", "FILE:///srv/b"}, wantStorage: "file:///srv/b"},
		{name: "storage tilde", args: []string{"--storage", "~/blobs"}, env: env{"HOME": "/home/u"}, wantStorage: "file:///home/u/blobs"},
		{name: "sqlite URL absolute", args: []string{"--database", "sqlite:///srv/r.db"}, wantDatabase: "sqlite:///srv/r.db"},
		{name: "sqlite URL relative", args: []string{"--database", "sqlite://r.db"}, wantDatabase: "sqlite://" + filepath.Join(wd, "r.db")},
		{name: "database plain path", args: []string{"--database", "/srv/r.db"}, wantDatabase: "sqlite:///srv/r.db"},
		{name: "data dir relative", args: []string{"--data-dir", "data"}, wantStorage: "file://" + filepath.Join(wd, "data", "blobs"), wantDatabase: "sqlite://" + filepath.Join(wd, "data", "registry.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env{"HOME": "/home/u"}
			for k, v := range tt.env {
				e[k] = v
			}
			cfg, err := load(t, tt.args, e)
			if err != nil {
				t.Fatalf("LoadServe(%q) = %v", tt.args, err)
			}
			if tt.wantStorage != "" && cfg.Storage.String() != tt.wantStorage {
				t.Errorf("Storage = %q, want %q", cfg.Storage, tt.wantStorage)
			}
			if tt.wantDatabase != "" && cfg.Database.String() != tt.wantDatabase {
				t.Errorf("Database = %q, want %q", cfg.Database, tt.wantDatabase)
			}
		})
	}
}

func TestLoadServeErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     env
		file    string
		wantErr []string // substrings of the error
	}{
		{name: "unknown key", file: "lisen: :5000\n", wantErr: []string{`unknown key "lisen"`, `did you mean "listen"?`, "known keys: listen, data_dir"}},
		{name: "unknown key without suggestion", file: "replicas: 3\n", wantErr: []string{`unknown key "replicas"`}},
		{name: "nested value", file: "storage:\n  type: file\n", wantErr: []string{`key "storage": want a single value`}},
		{name: "not YAML", file: "listen: [\n", wantErr: []string{"configuration file"}},
		{name: "missing file", args: []string{"--config", "/nonexistent/chainctl.yaml"}, wantErr: []string{"read configuration file"}},
		{name: "TLS cert without key", args: []string{"--tls-cert", "c.pem"}, wantErr: []string{"tls-cert is set but tls-key is not"}},
		{name: "TLS key without cert", env: env{"CHAINCTL_TLS_KEY": "k.pem"}, wantErr: []string{"tls-key is set but tls-cert is not"}},
		{name: "listen without port", args: []string{"--listen", "localhost"}, wantErr: []string{`listen "localhost": want host:port`}},
		{name: "listen bad port", args: []string{"--listen", "127.0.0.1:http5"}, wantErr: []string{`port "http5" is not a number`}},
		{name: "listen port too big", args: []string{"--listen", "127.0.0.1:70000"}, wantErr: []string{`port "70000"`}},
		{name: "listen random port on all interfaces", args: []string{"--listen", ":0"}, wantErr: []string{"a random port needs a host"}},
		{name: "s3 storage without bucket", args: []string{"--storage", "s3://?region=auto"}, wantErr: []string{"s3:// needs a bucket"}},
		{name: "r2 scheme", args: []string{"--storage", "r2://bucket"}, wantErr: []string{"for R2 use s3://"}},
		{name: "unknown storage scheme", args: []string{"--storage", "ftp://x"}, wantErr: []string{`unknown scheme "ftp"`}},
		{name: "empty file URL", args: []string{"--storage", "file://"}, wantErr: []string{"file:// needs a path"}},
		{name: "file URL unknown option", args: []string{"--storage", "file:///b?fsync=1"}, wantErr: []string{`unknown option "fsync"`, "sync=true|false"}},
		{name: "file URL bad sync", args: []string{"--storage", "file:///b?sync=maybe"}, wantErr: []string{"sync=maybe: want true or false"}},
		{name: "postgres database without host", env: env{"CHAINCTL_DATABASE": "postgres:///registry"}, wantErr: []string{"not a postgres://"}},
		{name: "unknown database scheme", args: []string{"--database", "redis://x"}, wantErr: []string{`unknown scheme "redis"`}},
		{name: "no home and no data dir", env: env{"HOME": ""}, wantErr: []string{"cannot find the data directory", "data-dir"}},
		{name: "external URL without scheme", args: []string{"--external-url", "registry.example.com"}, wantErr: []string{`external-url "registry.example.com": want an absolute http or https URL`}},
		{name: "external URL other scheme", args: []string{"--external-url", "ftp://registry.example.com"}, wantErr: []string{"want an absolute http or https URL"}},
		{name: "external URL without host", env: env{"CHAINCTL_EXTERNAL_URL": "https://:443"}, wantErr: []string{"want an absolute http or https URL"}},
		{name: "external URL with query", args: []string{"--external-url", "https://r.example.com/?x=1"}, wantErr: []string{"want no query or fragment"}},
		{name: "external URL with empty query", args: []string{"--external-url", "https://r.example.com?"}, wantErr: []string{"want no query or fragment"}},
		{name: "external URL with fragment", args: []string{"--external-url", "https://r.example.com#x"}, wantErr: []string{"want no query or fragment"}},
		{name: "external URL with user info", args: []string{"--external-url", "https://u:p@r.example.com"}, wantErr: []string{"want no user info"}},
		{name: "external URL with path", file: "external_url: https://example.com/registry\n", wantErr: []string{`want no path (got "/registry")`, "root of its host"}},
		{name: "external URL nested in file", file: "external_url:\n  host: x\n", wantErr: []string{`key "external_url": want a single value`}},
		{name: "both spellings of one key", file: "data_dir: /a\ndata-dir: /b\n", wantErr: []string{`key "data_dir" is set twice, also as "data-dir" (deprecated)`}},
		{name: "flag name with a typo", file: "data-dri: /a\n", wantErr: []string{`unknown key "data-dri"`, `did you mean "data_dir"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "no home and no data dir" && (runtime.GOOS == "windows" || runtime.GOOS == "darwin") {
				t.Skip("Unix data directory rules")
			}
			e := env{"HOME": "/home/u"}
			for k, v := range tt.env {
				e[k] = v
			}
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			_, err := load(t, args, e)
			if err == nil {
				t.Fatalf("LoadServe(%q) = nil error, want %q", args, tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("LoadServe(%q) = %q, want it to contain %q", args, err, want)
				}
			}
		})
	}
}

func TestLoadServeExplicitLocationsNeedNoHome(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix paths")
	}
	cfg, err := load(t, []string{"--storage", "/srv/blobs", "--database", "/srv/r.db"}, env{})
	if err != nil {
		t.Fatalf("LoadServe = %v, want no error when storage and database are explicit", err)
	}
	if cfg.DataDir != "" {
		t.Errorf("DataDir = %q, want empty", cfg.DataDir)
	}
}

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name    string
		goos    string
		env     env
		want    string
		wantErr bool
	}{
		{name: "linux XDG", goos: "linux", env: env{"XDG_DATA_HOME": "/xdg", "HOME": "/home/u"}, want: "/xdg/chainctl"},
		{name: "linux relative XDG is ignored", goos: "linux", env: env{"XDG_DATA_HOME": "xdg", "HOME": "/home/u"}, want: "/home/u/.local/share/chainctl"},
		{name: "linux home", goos: "linux", env: env{"HOME": "/home/u"}, want: "/home/u/.local/share/chainctl"},
		{name: "freebsd home", goos: "freebsd", env: env{"HOME": "/home/u"}, want: "/home/u/.local/share/chainctl"},
		{name: "linux nothing", goos: "linux", env: env{}, wantErr: true},
		{name: "darwin", goos: "darwin", env: env{"HOME": "/Users/u", "XDG_DATA_HOME": "/xdg"}, want: "/Users/u/Library/Application Support/chainctl"},
		{name: "darwin nothing", goos: "darwin", env: env{}, wantErr: true},
		{name: "windows", goos: "windows", env: env{"LocalAppData": `C:\Users\u\AppData\Local`}, want: `C:\Users\u\AppData\Local\chainctl`},
		{name: "windows nothing", goos: "windows", env: env{"HOME": "/home/u"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.goos != "windows" && runtime.GOOS == "windows" {
				t.Skip("Unix paths")
			}
			got, err := DefaultDataDir(WithGOOS(tt.goos), WithLookupEnv(tt.env.lookup))
			if (err != nil) != tt.wantErr {
				t.Fatalf("DefaultDataDir() = %q, %v, want error %v", got, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("DefaultDataDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ key, want string }{
		{KeyListen, "CHAINCTL_LISTEN"},
		{KeyDataDir, "CHAINCTL_DATA_DIR"},
		{KeyTLSCert, "CHAINCTL_TLS_CERT"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := EnvName(tt.key); got != tt.want {
				t.Errorf("EnvName(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestLoadServeExternalURL(t *testing.T) {
	file := writeFile(t, "external_url: https://from-file.example.com\n")
	tls := []string{"--tls-cert", "/c.pem", "--tls-key", "/k.pem"}
	tests := []struct {
		name        string
		args        []string
		env         env
		want        string
		wantService string
	}{
		{name: "default listen", want: "http://127.0.0.1:5000", wantService: "127.0.0.1:5000"},
		{name: "every interface", args: []string{"--listen", ":5000"}, want: "http://127.0.0.1:5000", wantService: "127.0.0.1:5000"},
		{name: "every IPv4 interface", args: []string{"--listen", "0.0.0.0:5000"}, want: "http://127.0.0.1:5000"},
		{name: "every IPv6 interface", args: []string{"--listen", "[::]:5000"}, want: "http://127.0.0.1:5000"},
		{name: "IPv6 loopback", args: []string{"--listen", "[::1]:5000"}, want: "http://[::1]:5000", wantService: "[::1]:5000"},
		{name: "host name", args: []string{"--listen", "Registry.Internal:8080"}, want: "http://registry.internal:8080"},
		{name: "random port", args: []string{"--listen", "127.0.0.1:0"}, want: "http://127.0.0.1:0"},
		{name: "TLS", args: append([]string{"--listen", ":443"}, tls...), want: "https://127.0.0.1:443", wantService: "127.0.0.1:443"},
		{name: "TLS on loopback", args: tls, want: "https://127.0.0.1:5000"},
		{name: "explicit", args: []string{"--external-url", "https://registry.example.com"}, want: "https://registry.example.com", wantService: "registry.example.com"},
		{name: "explicit is kept with TLS", args: append([]string{"--external-url", "http://r.example.com"}, tls...), want: "http://r.example.com"},
		{name: "trailing slash trimmed", args: []string{"--external-url", "https://registry.example.com/"}, want: "https://registry.example.com"},
		{name: "case normalized", args: []string{"--external-url", "HTTPS://Registry.Example.COM:8443"}, want: "https://registry.example.com:8443", wantService: "registry.example.com:8443"},
		{name: "from file", args: []string{"--config", file}, want: "https://from-file.example.com"},
		{name: "env over file", args: []string{"--config", file}, env: env{"CHAINCTL_EXTERNAL_URL": "https://env.example.com"}, want: "https://env.example.com"},
		{name: "flag over env", args: []string{"--external-url", "https://flag.example.com"}, env: env{"CHAINCTL_EXTERNAL_URL": "https://env.example.com"}, want: "https://flag.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env{"HOME": "/home/u"}
			for k, v := range tt.env {
				e[k] = v
			}
			cfg, err := load(t, tt.args, e)
			if err != nil {
				t.Fatalf("LoadServe(%q) = %v", tt.args, err)
			}
			if cfg.ExternalURL != tt.want {
				t.Errorf("ExternalURL = %q, want %q", cfg.ExternalURL, tt.want)
			}
			if tt.wantService != "" && cfg.Auth.Service != tt.wantService {
				t.Errorf("Auth.Service = %q, want %q", cfg.Auth.Service, tt.wantService)
			}
		})
	}
}

func TestLoadServeDev(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     env
		file    string
		want    bool
		wantErr []string
	}{
		{name: "off by default", want: false},
		{name: "flag", args: []string{"--dev"}, want: true},
		{name: "flag false over env", args: []string{"--dev=false"}, env: env{"CHAINCTL_DEV": "true"}, want: false},
		{name: "env", env: env{"CHAINCTL_DEV": "1"}, want: true},
		{name: "file", file: "dev: true\n", want: true},
		{name: "localhost", args: []string{"--dev", "--listen", "localhost:5000"}, want: true},
		{name: "IPv6 loopback", args: []string{"--dev", "--listen", "[::1]:5000"}, want: true},
		{name: "other loopback address", args: []string{"--dev", "--listen", "127.0.0.2:0"}, want: true},
		{name: "loopback external URL", args: []string{"--dev", "--external-url", "http://localhost:5000"}, want: true},
		{name: "off on every interface", args: []string{"--listen", ":5000"}, want: false},

		{name: "every interface", args: []string{"--dev", "--listen", ":5000"},
			wantErr: []string{"dev mode is loopback-only", `listen ":5000" listens on every interface`, "127.0.0.1"}},
		{name: "every IPv4 interface", args: []string{"--dev", "--listen", "0.0.0.0:5000"}, wantErr: []string{"dev mode is loopback-only", `"0.0.0.0"`}},
		{name: "every IPv6 interface", args: []string{"--dev", "--listen", "[::]:5000"}, wantErr: []string{"dev mode is loopback-only"}},
		{name: "private address", env: env{"CHAINCTL_DEV": "true", "CHAINCTL_LISTEN": "10.0.0.1:5000"}, wantErr: []string{"dev mode is loopback-only"}},
		{name: "host name", file: "dev: true\nlisten: registry.internal:5000\n", wantErr: []string{"dev mode is loopback-only"}},
		{name: "public external URL", args: []string{"--dev", "--external-url", "https://registry.example.com"},
			wantErr: []string{"dev mode is loopback-only", "is not a loopback URL"}},
		{name: "not a boolean", env: env{"CHAINCTL_DEV": "maybe"}, wantErr: []string{`dev "maybe": want true or false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env{"HOME": "/home/u"}
			for k, v := range tt.env {
				e[k] = v
			}
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			cfg, err := load(t, args, e)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("LoadServe(%q) = nil error, want %q", args, tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("LoadServe(%q) = %q, want it to contain %q", args, err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadServe(%q) = %v", args, err)
			}
			if cfg.Dev != tt.want {
				t.Errorf("Dev = %v, want %v", cfg.Dev, tt.want)
			}
		})
	}
}

// TestLoadServeRemoteBackends: s3:// storage and postgres:// databases are
// taken as given (their packages parse the details), and a database
// password never shows in String, which the banner and logs print.
func TestLoadServeRemoteBackends(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	AddServeFlags(fs)
	const db = "postgres://chainctl:hunter2@db.internal:5432/registry?sslmode=require&password=hunter3"
	const s3 = "s3://images/registry?endpoint=https://acct.r2.cloudflarestorage.com&region=auto"
	if err := fs.Parse([]string{"--storage", s3, "--database", db, "--data-dir", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadServe(fs, WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Type != StorageS3 || cfg.Storage.URL != s3 || cfg.Storage.String() != s3 {
		t.Errorf("storage = %+v", cfg.Storage)
	}
	if cfg.Database.Type != DatabasePostgres || cfg.Database.URL != db {
		t.Errorf("database = %+v", cfg.Database)
	}
	if got := cfg.Database.String(); strings.Contains(got, "hunter") || !strings.Contains(got, "db.internal:5432/registry") {
		t.Errorf("Database.String() = %q, want the URL without its passwords", got)
	}
	if err := fs.Set("database", "postgres://u:hunter2@[bad/x"); err != nil {
		t.Fatal(err)
	}
	_, err = LoadServe(fs, WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad postgres URL: err = %v, want an error without the password", err)
	}
}
