package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGoreleaserConfig checks .goreleaser.yaml with the pinned goreleaser,
// so a release cannot be the first place a broken config shows.
func TestGoreleaserConfig(t *testing.T) {
	bin := requireTool(t, "goreleaser")
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithTimeout(t, 2*time.Minute)
	defer cancel()
	cmd := commandIn(ctx, strings.TrimSpace(string(root)), nil, bin, "check")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}
