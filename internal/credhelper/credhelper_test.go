package credhelper

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeSource is a map from server URL to username and secret.
type fakeSource map[string][2]string

func (f fakeSource) Get(_ context.Context, serverURL string) (string, string, error) {
	if serverURL == "broken.example" {
		return "", "", errors.New("cache unreadable")
	}
	c, ok := f[serverURL]
	if !ok {
		return "", "", ErrNotFound
	}
	return c[0], c[1], nil
}

func TestHelperRun(t *testing.T) {
	src := fakeSource{"registry.example": {"<token>", "s3cr3t"}}
	tests := []struct {
		name       string
		source     Source
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "get without logins",
			args:       []string{"get"},
			stdin:      "registry.example\n",
			wantCode:   1,
			wantStdout: "credentials not found in native keychain\n",
		},
		{
			name:       "get unknown host",
			source:     src,
			args:       []string{"get"},
			stdin:      "other.example",
			wantCode:   1,
			wantStdout: "credentials not found in native keychain\n",
		},
		{
			name:       "get known host",
			source:     src,
			args:       []string{"get"},
			stdin:      "registry.example\n",
			wantStdout: `{"ServerURL":"registry.example","Username":"<token>","Secret":"s3cr3t"}` + "\n",
		},
		{
			name:       "get source failure",
			source:     src,
			args:       []string{"get"},
			stdin:      "broken.example",
			wantCode:   1,
			wantStdout: "get credentials for broken.example: cache unreadable\n",
		},
		{
			name:       "get without input",
			args:       []string{"get"},
			wantCode:   1,
			wantStdout: "no credentials server URL\n",
		},
		{
			name:       "list",
			source:     src,
			args:       []string{"list"},
			wantStdout: "{}\n",
		},
		{
			name:       "store refused",
			args:       []string{"store"},
			stdin:      `{"ServerURL":"registry.example","Username":"u","Secret":"hunter2"}`,
			wantCode:   1,
			wantStdout: errStoreUnsupported.Error() + "\n",
		},
		{
			name:       "erase refused",
			args:       []string{"erase"},
			stdin:      "registry.example",
			wantCode:   1,
			wantStdout: errStoreUnsupported.Error() + "\n",
		},
		{
			name:       "version",
			args:       []string{"version"},
			wantStdout: "docker-credential-chainctl (chainctl) v1.2.3\n",
		},
		{
			name:       "no action",
			wantCode:   1,
			wantStderr: "usage: docker-credential-chainctl <get|store|erase|list|version>\n",
		},
		{
			name:       "unknown action",
			args:       []string{"frobnicate"},
			wantCode:   1,
			wantStderr: "unknown action \"frobnicate\"\nusage: docker-credential-chainctl <get|store|erase|list|version>\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Helper{Source: tt.source, Version: "v1.2.3"}
			var stdout, stderr strings.Builder
			code := h.Run(t.Context(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("Run(%q) = %d, want %d", tt.args, code, tt.wantCode)
			}
			if got := stdout.String(); !sameOutput(got, tt.wantStdout) {
				t.Errorf("Run(%q) stdout = %q, want %q", tt.args, got, tt.wantStdout)
			}
			if got := stderr.String(); got != tt.wantStderr {
				t.Errorf("Run(%q) stderr = %q, want %q", tt.args, got, tt.wantStderr)
			}
			if strings.Contains(stderr.String(), "hunter2") || strings.Contains(stderr.String(), "s3cr3t") {
				t.Errorf("Run(%q) leaked a secret to stderr: %q", tt.args, stderr.String())
			}
		})
	}
}

func TestStoreMessageMentionsLogin(t *testing.T) {
	msg := errStoreUnsupported.Error()
	for _, want := range []string{"not supported", "passwordless", "chainctl auth login"} {
		if !strings.Contains(msg, want) {
			t.Errorf("store refusal %q does not mention %q", msg, want)
		}
	}
}

// sameOutput compares helper output: JSON objects by value (the library
// escapes "<" as \u003c), anything else exactly.
func sameOutput(got, want string) bool {
	if strings.HasPrefix(want, "{") {
		var g, w any
		return json.Unmarshal([]byte(got), &g) == nil && json.Unmarshal([]byte(want), &w) == nil &&
			reflect.DeepEqual(g, w) && strings.HasSuffix(got, "\n")
	}
	return got == want
}
