package toolpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "chainctl-test-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	if p, err := Find(t.Context(), "chainctl-test-tool", nil); err != nil || p != tool {
		t.Errorf("Find = %q, %v; want %q", p, err, tool)
	}
	if _, err := Find(t.Context(), "chainctl-test-tool", func(string) bool { return false }); err == nil ||
		!strings.Contains(err.Error(), dir) {
		t.Errorf("rejected everywhere: err = %v, want one naming %s", err, dir)
	}
	if _, err := Find(t.Context(), "no-such-tool-anywhere", nil); err == nil {
		t.Error("a missing tool was found")
	}
}
