package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestFileKeysSnakeCase: every top-level key is read in snake_case, as the
// auth and events sections and the API are, and the kebab-case of older
// versions still works, with a warning that says how to write it.
func TestFileKeysSnakeCase(t *testing.T) {
	snake := "listen: 127.0.0.1:7001\ndata_dir: /d\ntls_cert: /c.pem\ntls_key: /k.pem\nexternal_url: https://r.example.com\n" +
		"upload_ttl: 2h\nmax_uploads_per_principal: 7\nbody_min_rate: 2KiB\n"
	kebab := strings.NewReplacer("data_dir", "data-dir", "tls_cert", "tls-cert", "tls_key", "tls-key", "external_url", "external-url",
		"upload_ttl", "upload-ttl", "max_uploads_per_principal", "max-uploads-per-principal", "body_min_rate", "body-min-rate").Replace(snake)
	for _, tt := range []struct {
		name, file   string
		wantWarnings []string
	}{
		{name: "snake_case", file: snake},
		{name: "kebab-case, deprecated", file: kebab, wantWarnings: []string{
			`"body-min-rate" is deprecated; write "body_min_rate"`, `"data-dir" is deprecated; write "data_dir"`,
			`"external-url" is deprecated; write "external_url"`, `"max-uploads-per-principal" is deprecated; write "max_uploads_per_principal"`,
			`"tls-cert" is deprecated; write "tls_cert"`, `"tls-key" is deprecated; write "tls_key"`, `"upload-ttl" is deprecated; write "upload_ttl"`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, []string{"--config", writeFile(t, tt.file)}, env{"HOME": "/home/u"})
			if err != nil {
				t.Fatalf("LoadServe = %v", err)
			}
			if cfg.Listen != "127.0.0.1:7001" || cfg.DataDir != "/d" || cfg.TLS.CertFile != "/c.pem" || cfg.TLS.KeyFile != "/k.pem" ||
				cfg.ExternalURL != "https://r.example.com" || cfg.Blobs.UploadTTL.String() != "2h0m0s" ||
				cfg.Limits.MaxUploadsPerPrincipal != 7 || cfg.Limits.BodyMinRate != 2048 {
				t.Errorf("LoadServe = %+v, want every key of the file read", cfg)
			}
			if len(cfg.Warnings) != len(tt.wantWarnings) {
				t.Fatalf("Warnings = %q, want %d", cfg.Warnings, len(tt.wantWarnings))
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(cfg.Warnings[i], w) {
					t.Errorf("Warnings[%d] = %q, want it to contain %q", i, cfg.Warnings[i], w)
				}
			}
		})
	}
}

// TestLoadServeReportsEveryError: one run names every problem of the
// configuration — in the file, the environment and the flags — not only
// the first.
func TestLoadServeReportsEveryError(t *testing.T) {
	file := writeFile(t, `lisen: ":5000"
storage:
  type: file
upload_ttl: 1s
blob_redirect: sideways
body_idle_timeout: forever
max_uploads_per_repository: -1
auth:
  sesion_ttl: 1h
  access_token_ttl: soon
  public_repositories: ["ok/*", "bad//name"]
  login:
    issuer: http://accounts.example.com
events:
  retention: 1m
  retry_for: 1s
`)
	_, err := load(t, []string{"--config", file, "--tls-cert", "c.pem", "--external-url", "ftp://x"}, env{"HOME": "/home/u", "CHAINCTL_DEV": "maybe"})
	if err == nil {
		t.Fatal("LoadServe = nil, want errors")
	}
	want := []string{
		`unknown key "lisen"`,
		`key "storage": want a single value`,
		`unknown key "auth.sesion_ttl"`,
		"upload-ttl 1s: at least",
		`blob-redirect "sideways"`,
		`body-idle-timeout "forever"`,
		`max-uploads-per-repository "-1"`,
		"tls-cert is set but tls-key is not",
		`external-url "ftp://x"`,
		`dev "maybe"`,
		`auth.access_token_ttl "soon"`,
		"auth.public_repositories[1]",
		"auth.login.issuer is set but auth.login.client_id is not",
		`events.retry_for "1s"`,
		`events.retention "1m"`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not report %q:\n%s", w, msg)
		}
	}
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != len(want) {
		t.Errorf("LoadServe = %d problems, want %d:\n%s", len(errs), len(want), msg)
	}
	if !strings.HasPrefix(msg, "15 problems:\n  - ") {
		t.Errorf("error = %q, want it to count the problems and list one a line", msg)
	}
	lines := strings.Split(msg, "\n")
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  - ") && strings.Contains(l, "lisen") }) {
		t.Errorf("error does not list the unknown key on a line of its own:\n%s", msg)
	}
}
