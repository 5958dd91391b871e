package s3

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

func TestSDKLogger(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Logf(logging.Warn, "falling back to %s", "IMDSv1")
	l.Logf(logging.Debug, "retrying")
	out := buf.String()
	if !strings.Contains(out, `"level":"WARN","msg":"falling back to IMDSv1","component":"aws-sdk"`) {
		t.Errorf("warning not logged as one: %s", out)
	}
	if strings.Contains(out, "retrying") {
		t.Errorf("a debug message passed a warn-level logger: %s", out)
	}
}

// TestNewWithoutCredentials checks that a store with no credentials to
// find fails at once and says which variables to set.
func TestNewWithoutCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, err := New(context.Background(), Config{Bucket: "images", Endpoint: "http://127.0.0.1:1", Region: "auto"})
	if err == nil || !strings.Contains(err.Error(), `bucket "images": no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`) {
		t.Errorf("New() without credentials = %v, want an error naming the variables", err)
	}
}
