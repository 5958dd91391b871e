package credhelper

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestMinLife(t *testing.T) {
	for _, tt := range []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", tokencache.DefaultMinLife, false},
		{"10m", 10 * time.Minute, false},
		{" 0s ", 0, false},
		{"-1m", 0, true},
		{"ten minutes", 0, true},
	} {
		got, err := MinLife(func(k string) string {
			if k == EnvMinLife {
				return tt.value
			}
			return ""
		})
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("MinLife(%q) = %v, %v; want %v, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), EnvMinLife) {
			t.Errorf("MinLife(%q) error %q does not name $%s", tt.value, err, EnvMinLife)
		}
	}
}

// stubSource answers Get with fixed values and counts calls.
type stubSource struct {
	user, secret string
	err          error
	calls        int
}

func (s *stubSource) Get(context.Context, string) (string, string, error) {
	s.calls++
	return s.user, s.secret, s.err
}

func TestFallback(t *testing.T) {
	hit := &stubSource{user: "_token", secret: "cached"}
	next := &stubSource{user: "_token", secret: "renewed"}
	if _, secret, err := (Fallback{First: hit, Next: next}).Get(t.Context(), "r.example"); err != nil || secret != "cached" || next.calls != 0 {
		t.Errorf("cache hit: %q, %v, next called %d times", secret, err, next.calls)
	}
	for _, firstErr := range []error{ErrNotFound, errors.New("the session for r.example has expired")} {
		next.calls = 0
		miss := &stubSource{err: firstErr}
		if _, secret, err := (Fallback{First: miss, Next: next}).Get(t.Context(), "r.example"); err != nil || secret != "renewed" || next.calls != 1 {
			t.Errorf("first fails with %v: %q, %v, next called %d times", firstErr, secret, err, next.calls)
		}
	}
}

// fakeChainctl writes a shell script standing in for chainctl that checks
// its arguments and answers with stdout and exit code.
func fakeChainctl(t *testing.T, stdout string, code int) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as chainctl")
	}
	path := filepath.Join(t.TempDir(), "chainctl")
	script := "#!/bin/sh\n" +
		"[ \"$*\" = \"auth credential-helper get\" ] || { echo \"bad args: $*\"; exit 2; }\n" +
		"read -r host\n[ \"$host\" = r.example ] || { echo \"bad host: $host\"; exit 2; }\n" +
		"printf '%s' '" + stdout + "'\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExec(t *testing.T) {
	ok := fakeChainctl(t, `{"ServerURL":"r.example","Username":"_token","Secret":"tok"}`+"\n", 0)
	if user, secret, err := (Exec{Path: ok}).Get(t.Context(), "r.example"); err != nil || user != "_token" || secret != "tok" {
		t.Errorf("success: %q, %q, %v", user, secret, err)
	}
	notFound := fakeChainctl(t, "credentials not found in native keychain\n", 1)
	if _, _, err := (Exec{Path: notFound}).Get(t.Context(), "r.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("not found: %v, want ErrNotFound", err)
	}
	// chainctl's own wrapping is not repeated: Helper.Run adds it again.
	expired := fakeChainctl(t, "get credentials for r.example: the session for r.example has expired; run `chainctl auth login --registry r.example`\n", 1)
	_, _, err := (Exec{Path: expired}).Get(t.Context(), "r.example")
	if err == nil || !strings.HasPrefix(err.Error(), "the session for r.example has expired") {
		t.Errorf("expired: %v", err)
	}
	garbage := fakeChainctl(t, "not json", 0)
	if _, _, err := (Exec{Path: garbage}).Get(t.Context(), "r.example"); err == nil || strings.Contains(err.Error(), "not json") {
		t.Errorf("garbage answer: %v", err)
	}
	if _, _, err := (Exec{Path: filepath.Join(t.TempDir(), "missing")}).Get(t.Context(), "r.example"); err == nil {
		t.Error("missing chainctl: no error")
	}
}

// TestStandaloneGet runs the standalone helper's get on a real cache: a
// warm entry answers without chainctl (the fake refuses any host but
// r.example); an entry below the minimum life asks chainctl.
func TestStandaloneGet(t *testing.T) {
	_, open := openTemp(t)
	tc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Put("warm.example", tokencache.Entry{Kind: tokencache.KindSession, Token: "warm", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Nearly expired: below the minimum life, so chainctl is asked.
	if err := tc.Put("r.example", tokencache.Entry{Kind: tokencache.KindSession, Token: "old", Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	chainctl := fakeChainctl(t, `{"ServerURL":"r.example","Username":"_token","Secret":"renewed"}`, 0)
	c := NewCache(open)
	h := &Helper{Source: Fallback{First: c, Next: Exec{Path: chainctl}}, Store: c}
	for host, want := range map[string]string{"warm.example": "warm", "r.example": "renewed"} {
		var stdout, stderr strings.Builder
		if code := h.Run(t.Context(), []string{"get"}, strings.NewReader(host), &stdout, &stderr); code != 0 ||
			!strings.Contains(stdout.String(), `"Secret":"`+want+`"`) {
			t.Errorf("get %s = %d, %q", host, code, stdout.String())
		}
	}
}
