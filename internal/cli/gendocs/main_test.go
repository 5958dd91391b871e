package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestGeneratedFilesAreFresh regenerates docs/cli and completions into a
// temporary directory and compares them with the checked-in files.
func TestGeneratedFilesAreFresh(t *testing.T) {
	tmp := t.TempDir()
	gotDocs, gotCompl := filepath.Join(tmp, "docs"), filepath.Join(tmp, "completions")
	if err := generate(gotDocs, gotCompl); err != nil {
		t.Fatalf("generate() = %v", err)
	}
	tests := []struct {
		name      string
		generated string
		checkedIn string
	}{
		{name: "docs/cli", generated: gotDocs, checkedIn: filepath.Join("..", "..", "..", "docs", "cli")},
		{name: "completions", generated: gotCompl, checkedIn: filepath.Join("..", "..", "..", "completions")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := readDir(t, tt.generated)
			got := readDir(t, tt.checkedIn)
			for _, name := range sortedKeys(want) {
				have, ok := got[name]
				switch {
				case !ok:
					t.Errorf("%s/%s is missing; run `make generate`", tt.name, name)
				case !bytes.Equal(have, want[name]):
					t.Errorf("%s/%s is stale; run `make generate`", tt.name, name)
				}
			}
			for _, name := range sortedKeys(got) {
				if _, ok := want[name]; !ok {
					t.Errorf("%s/%s is no longer generated; run `make generate` (it removes stale pages)", tt.name, name)
				}
			}
		})
	}
}

// TestGenerateIsDeterministic: two runs give the same bytes (no dates).
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := generate(filepath.Join(dir, "docs"), filepath.Join(dir, "completions")); err != nil {
			t.Fatalf("generate() = %v", err)
		}
	}
	for _, sub := range []string{"docs", "completions"} {
		ga, gb := readDir(t, filepath.Join(a, sub)), readDir(t, filepath.Join(b, sub))
		for name, content := range ga {
			if !bytes.Equal(content, gb[name]) {
				t.Errorf("%s/%s differs between two runs", sub, name)
			}
		}
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v; run `make generate`", dir, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
