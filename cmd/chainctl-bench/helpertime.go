package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// helperTiming is the credential-helper figure of issue 4: how long
// `docker-credential-chainctl get` takes from a warm cache, against the
// start of a Go program that does nothing, measured in the same run. The
// standalone helper is what users run; chainctl linked under the helper's
// name (which also works) is timed alongside, to show why it is separate.
type helperTiming struct {
	calls              int
	helper, link, noop time.Duration // medians
}

// measureHelper builds an empty Go program, warms the helper's cache with a
// stored credential, and times calls of the three, interleaved so that
// machine noise hits them alike.
func measureHelper(ctx context.Context, helperBin, chainctl, dir string, calls int) (*helperTiming, error) {
	noop := filepath.Join(dir, "noop", "noop")
	if err := os.MkdirAll(filepath.Dir(noop), 0o755); err != nil {
		return nil, err
	}
	src := filepath.Dir(noop)
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module noop\n\ngo 1.26\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		return nil, err
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", noop, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the empty program: %v: %s", err, out)
	}
	link := filepath.Join(dir, "link", "docker-credential-chainctl")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(chainctl, link); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HOME="+filepath.Join(dir, "home"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	const host = "bench.invalid:5000"
	if _, err := runWith(ctx, env, `{"ServerURL":"`+host+`","Username":"bench","Secret":"bench-secret"}`, helperBin, "store"); err != nil {
		return nil, fmt.Errorf("warm the helper's cache: %w", err)
	}
	get := func(bin string) (time.Duration, error) {
		start := time.Now()
		out, err := runWith(ctx, env, host, bin, "get")
		if err != nil || !strings.Contains(out, "bench-secret") {
			return 0, fmt.Errorf("%s get: %v: %q", bin, err, out)
		}
		return time.Since(start), nil
	}
	var hs, ls, ns []time.Duration
	for range calls {
		h, err := get(helperBin)
		if err != nil {
			return nil, err
		}
		l, err := get(link)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if _, err := runWith(ctx, env, "", noop); err != nil {
			return nil, err
		}
		hs, ls, ns = append(hs, h), append(ls, l), append(ns, time.Since(start))
	}
	return &helperTiming{calls: calls, helper: medianDuration(hs), link: medianDuration(ls), noop: medianDuration(ns)}, nil
}

func runWith(ctx context.Context, env []string, stdin, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	err := cmd.Run()
	return out.String(), err
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// write prints the figure as a small table of its own.
func (h *helperTiming) write(w io.Writer, markdown bool) {
	ratio := float64(h.helper) / float64(h.noop)
	linkRatio := float64(h.link) / float64(h.noop)
	met := "✓"
	if ratio > 1.5 {
		met = "✗"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	if markdown {
		fmt.Fprintf(w, "\n| credential helper, warm cache (median of %d calls) | ms | empty Go program, ms | ratio | target | met |\n|---|--:|--:|--:|---|:-:|\n", h.calls)
		fmt.Fprintf(w, "| `docker-credential-chainctl get` | %s | %s | %.2f× | ≤ 1.5× | %s |\n", ms(h.helper), ms(h.noop), ratio, met)
		fmt.Fprintf(w, "| chainctl linked as the helper, `get` | %s | %s | %.2f× | — | |\n", ms(h.link), ms(h.noop), linkRatio)
		return
	}
	fmt.Fprintf(w, "\ncredential helper get, warm cache (median of %d calls): %s ms; empty Go program: %s ms; ratio %.2f× (target ≤ 1.5×) %s\n",
		h.calls, ms(h.helper), ms(h.noop), ratio, met)
	fmt.Fprintf(w, "chainctl linked as the helper: %s ms, ratio %.2f×\n", ms(h.link), linkRatio)
}
