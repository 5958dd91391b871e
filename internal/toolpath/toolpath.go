// Package toolpath finds the external programs the tests and the benchmark
// drive (versitygw, the zitadel example server, ...) where `go install`
// and .ci/tools.sh put them: on PATH, else in GOBIN, else in each GOPATH's
// bin. A fresh shell often lacks $(go env GOPATH)/bin on its PATH.
package toolpath

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Find returns the path of the program name, the first found in PATH,
// GOBIN or GOPATH/bin that accept approves (nil accepts any regular file).
// The error names the directories it looked in.
func Find(ctx context.Context, name string, accept func(path string) bool) (string, error) {
	if accept == nil {
		accept = func(p string) bool {
			fi, err := os.Stat(p)
			return err == nil && fi.Mode().IsRegular()
		}
	}
	dirs := Dirs(ctx)
	for _, d := range dirs {
		if p := filepath.Join(d, name); accept(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in GOBIN/GOPATH/bin (looked in %s; install it with ./.ci/tools.sh)",
		name, strings.Join(dirs, string(filepath.ListSeparator)))
}

// Dirs returns the directories Find looks in, in order.
func Dirs(ctx context.Context) []string {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return dirs
	}
	lines := strings.Split(strings.TrimRight(string(out), "\r\n"), "\n")
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		dirs = append(dirs, strings.TrimSpace(lines[0]))
	}
	if len(lines) > 1 {
		for _, p := range filepath.SplitList(strings.TrimSpace(lines[1])) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	return dirs
}
