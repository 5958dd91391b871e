package credhelper

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestServerHost(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "host and port", in: "127.0.0.1:5000", want: "127.0.0.1:5000"},
		{name: "bare host", in: "registry.example.com", want: "registry.example.com"},
		{name: "https", in: "https://registry.example.com", want: "registry.example.com"},
		{name: "https trailing slash", in: "https://registry.example.com/", want: "registry.example.com"},
		{name: "docker hub", in: "https://index.docker.io/v1/", want: "index.docker.io"},
		{name: "http with port", in: "http://localhost:5000", want: "localhost:5000"},
		{name: "upper case", in: "Registry.Example.COM", want: "registry.example.com"},
		{name: "host with path", in: "registry.example.com/v2/", want: "registry.example.com"},
		{name: "ipv6", in: "https://[::1]:5000", want: "[::1]:5000"},
		{name: "spaces around", in: "  registry.example.com\n", want: "registry.example.com"},
		{name: "empty", in: ""},
		{name: "other scheme", in: "ftp://registry.example.com"},
		{name: "user info", in: "https://user:pw@registry.example.com"},
		{name: "query", in: "https://registry.example.com/?x=1"},
		{name: "no host", in: "https:///v2/"},
		{name: "at sign", in: "user@registry.example.com"},
		{name: "inner space", in: "registry example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ServerHost(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("ServerHost(%q) = %q, %v, want ErrNotFound", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ServerHost(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func openTemp(t *testing.T) (string, func() (*tokencache.Cache, error)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tokens")
	return dir, func() (*tokencache.Cache, error) { return tokencache.Open(dir) }
}

// TestCacheProtocol drives one helper through a sequence of calls on one
// cache, as docker login, docker pull and docker logout would.
func TestCacheProtocol(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	dir, open := openTemp(t)
	tc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	// A session made by `chainctl auth login`, and an expired one.
	if err := tc.Put("session.example", tokencache.Entry{Kind: tokencache.KindSession, Token: "sess-secret", Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := tc.Put("old.example", tokencache.Entry{Kind: tokencache.KindSession, Token: "old-secret", Expiry: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	c := NewCache(open, WithClock(func() time.Time { return now }))
	h := &Helper{Source: c, Store: c, Version: "v1"}

	const notFound = "credentials not found in native keychain\n"
	steps := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
	}{
		{name: "get before store", args: []string{"get"}, stdin: "127.0.0.1:5000", wantCode: 1, wantStdout: notFound},
		{name: "list empty", args: []string{"list"}, wantStdout: "{}\n"},
		{
			name:  "store host:port",
			args:  []string{"store"},
			stdin: `{"ServerURL":"127.0.0.1:5000","Username":"puller","Secret":"pt-hunter2"}`,
		},
		{
			name:  "store https URL",
			args:  []string{"store"},
			stdin: `{"ServerURL":"https://Registry.Example.com","Username":"ci","Secret":"pt-s3cr3t"}`,
		},
		{
			name:  "store docker hub",
			args:  []string{"store"},
			stdin: `{"ServerURL":"https://index.docker.io/v1/","Username":"me","Secret":"hub-secret"}`,
		},
		{
			name:       "get host:port",
			args:       []string{"get"},
			stdin:      "127.0.0.1:5000\n",
			wantStdout: `{"ServerURL":"127.0.0.1:5000","Username":"puller","Secret":"pt-hunter2"}` + "\n",
		},
		{
			name:       "get other spelling of the same host",
			args:       []string{"get"},
			stdin:      "registry.example.com",
			wantStdout: `{"ServerURL":"registry.example.com","Username":"ci","Secret":"pt-s3cr3t"}` + "\n",
		},
		{
			name:       "get docker hub",
			args:       []string{"get"},
			stdin:      "https://index.docker.io/v1/",
			wantStdout: `{"ServerURL":"https://index.docker.io/v1/","Username":"me","Secret":"hub-secret"}` + "\n",
		},
		{
			name:       "get session",
			args:       []string{"get"},
			stdin:      "https://session.example",
			wantStdout: `{"ServerURL":"https://session.example","Username":"_token","Secret":"sess-secret"}` + "\n",
		},
		{
			name:       "get expired session names login",
			args:       []string{"get"},
			stdin:      "old.example",
			wantCode:   1,
			wantStdout: "get credentials for old.example: the session for old.example has expired; run `chainctl auth login --registry old.example`\n",
		},
		{name: "get unknown host", args: []string{"get"}, stdin: "unknown.example", wantCode: 1, wantStdout: notFound},
		{name: "get invalid server URL", args: []string{"get"}, stdin: "ftp://x/../..", wantCode: 1, wantStdout: notFound},
		{name: "get invalid host", args: []string{"get"}, stdin: "bad_host!:99999", wantCode: 1, wantStdout: notFound},
		{
			name:       "list stored only",
			args:       []string{"list"},
			wantStdout: `{"127.0.0.1:5000":"puller","index.docker.io":"me","registry.example.com":"ci"}` + "\n",
		},
		{name: "erase", args: []string{"erase"}, stdin: "http://127.0.0.1:5000/"},
		{name: "get after erase", args: []string{"get"}, stdin: "127.0.0.1:5000", wantCode: 1, wantStdout: notFound},
		{name: "erase again", args: []string{"erase"}, stdin: "127.0.0.1:5000"},
		{name: "erase leaves sessions", args: []string{"erase"}, stdin: "session.example"},
		{
			name:       "session still there",
			args:       []string{"get"},
			stdin:      "session.example",
			wantStdout: `{"ServerURL":"session.example","Username":"_token","Secret":"sess-secret"}` + "\n",
		},
		{name: "erase invalid", args: []string{"erase"}, stdin: "not a host"},
		{
			name:       "store invalid host",
			args:       []string{"store"},
			stdin:      `{"ServerURL":"ftp://x","Username":"u","Secret":"pt-hunter2"}`,
			wantCode:   1,
			wantStdout: "store credentials: \"ftp://x\" is not a registry host\n",
		},
		{
			name:       "store bad JSON hides input",
			args:       []string{"store"},
			stdin:      `{"ServerURL":"a","Secret":hunter2}`,
			wantCode:   1,
			wantStdout: "read credentials: standard input is not a credentials JSON object\n",
		},
		{
			name:       "store without secret",
			args:       []string{"store"},
			stdin:      `{"ServerURL":"a.example","Username":"u"}`,
			wantCode:   1,
			wantStdout: "store credentials for a.example: no Secret\n",
		},
		{
			name:       "list after erase",
			args:       []string{"list"},
			wantStdout: `{"index.docker.io":"me","registry.example.com":"ci"}` + "\n",
		},
	}
	for _, s := range steps {
		var stdout, stderr strings.Builder
		code := h.Run(t.Context(), s.args, strings.NewReader(s.stdin), &stdout, &stderr)
		if code != s.wantCode {
			t.Errorf("%s: Run(%q) = %d, want %d (stdout %q)", s.name, s.args, code, s.wantCode, stdout.String())
		}
		if got := stdout.String(); got != s.wantStdout {
			t.Errorf("%s: Run(%q) stdout = %q, want %q", s.name, s.args, got, s.wantStdout)
		}
		if stderr.Len() != 0 {
			t.Errorf("%s: Run(%q) stderr = %q, want nothing", s.name, s.args, stderr.String())
		}
		if s.args[0] != "get" {
			for _, secret := range []string{"hunter2", "s3cr3t", "sess-secret", "old-secret", "hub-secret"} {
				if strings.Contains(stdout.String(), secret) {
					t.Errorf("%s: Run(%q) printed secret %q: %q", s.name, s.args, secret, stdout.String())
				}
			}
		}
	}

	// What store wrote is a 0600 KindStored entry, in the stored slot.
	e, err := tc.Stored().Get("registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != tokencache.KindStored || e.Username != "ci" || e.Token != "pt-s3cr3t" {
		t.Errorf("stored entry = %v (token %q), want kind stored, user ci", e, e.Token)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range ents {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group or other access", de.Name(), fi.Mode().Perm())
		}
	}
}

func TestCacheOpenLazily(t *testing.T) {
	calls := 0
	c := NewCache(func() (*tokencache.Cache, error) {
		calls++
		return nil, errors.New("no cache here")
	})
	h := &Helper{Source: c, Store: c, Version: "v9"}
	var stdout, stderr strings.Builder
	if code := h.Run(t.Context(), []string{"version"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("version = %d", code)
	}
	if calls != 0 {
		t.Errorf("version opened the cache %d times, want 0", calls)
	}
	for range 2 {
		stdout.Reset()
		code := h.Run(t.Context(), []string{"get"}, strings.NewReader("registry.example"), &stdout, &stderr)
		if code != 1 || stdout.String() != "get credentials for registry.example: no cache here\n" {
			t.Errorf("get = %d, %q", code, stdout.String())
		}
	}
	if calls != 1 {
		t.Errorf("open called %d times, want 1", calls)
	}
}
