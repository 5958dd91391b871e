package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readmePath is the README whose client commands TestREADMEClients runs.
const readmePath = "../../README.md"

// readmeRegistry is the registry address the README's commands name: that
// of `make run`, replaced by the test server's port.
const readmeRegistry = "localhost:5000"

// readmeBlocks are the README's tested blocks, in the order they run: each
// is a ```sh block right after a "<!-- readme-test: NAME -->" line.
var readmeBlocks = []string{"setup", "crane", "oras", "skopeo", "regctl"}

// readmeTools are the clients the blocks run, besides chainctl.
var readmeTools = []string{"crane", "oras", "skopeo", "regctl"}

// parseREADMEBlocks returns the tested blocks of a README, by name. A
// marker that is not followed by a ```sh block, an unclosed block, or a
// name given twice is an error: the README and the test must not drift
// apart unnoticed.
func parseREADMEBlocks(readme string) (map[string]string, error) {
	blocks := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(readme))
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return sc.Text(), true
	}
	for {
		l, ok := next()
		if !ok {
			return blocks, sc.Err()
		}
		name, ok := strings.CutPrefix(strings.TrimSpace(l), "<!-- readme-test:")
		if !ok {
			continue
		}
		name = strings.TrimSpace(strings.TrimSuffix(name, "-->"))
		at := line
		if fence, ok := next(); !ok || strings.TrimSpace(fence) != "```sh" {
			return nil, fmt.Errorf("line %d: readme-test %q is not followed by a ```sh block", at, name)
		}
		if _, dup := blocks[name]; dup {
			return nil, fmt.Errorf("line %d: readme-test %q given twice", at, name)
		}
		var body strings.Builder
		for {
			l, ok := next()
			if !ok {
				return nil, fmt.Errorf("line %d: readme-test %q: the block is never closed", at, name)
			}
			if strings.TrimSpace(l) == "```" {
				break
			}
			body.WriteString(l + "\n")
		}
		blocks[name] = body.String()
	}
}

func TestParseREADMEBlocks(t *testing.T) {
	good := "text\n<!-- readme-test: a -->\n```sh\necho a\n# comment\n```\n\n```sh\nnot tested\n```\n<!-- readme-test: b -->\n```sh\necho b\n```\n"
	got, err := parseREADMEBlocks(good)
	if err != nil || len(got) != 2 || got["a"] != "echo a\n# comment\n" || got["b"] != "echo b\n" {
		t.Errorf("parseREADMEBlocks(good) = %q, %v", got, err)
	}
	for name, bad := range map[string]string{
		"no block after the marker": "<!-- readme-test: a -->\ntext\n```sh\necho\n```\n",
		"another language":          "<!-- readme-test: a -->\n```yaml\nk: v\n```\n",
		"unclosed":                  "<!-- readme-test: a -->\n```sh\necho\n",
		"twice":                     "<!-- readme-test: a -->\n```sh\necho\n```\n<!-- readme-test: a -->\n```sh\necho\n```\n",
	} {
		if _, err := parseREADMEBlocks(bad); err == nil {
			t.Errorf("parseREADMEBlocks(%s) = nil error", name)
		}
	}
}

// TestREADMEClients runs the README's client commands — log in, configure
// the credential helper, then push and pull with crane, oras, skopeo and
// regctl — exactly as the README writes them, against a `registry serve
// --dev` (what `make run` starts), with only the port changed. A README
// edit that breaks a command, or a change that breaks a client the README
// promises, fails here.
func TestREADMEClients(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseREADMEBlocks(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	var names []string
	for name := range blocks {
		names = append(names, name)
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(readmeBlocks))
	if !slices.Equal(names, want) {
		t.Fatalf("README.md has tested blocks %q, want %q", names, want)
	}

	// The clients, found as the other tests find them; their directories
	// go on PATH, with the binaries under test first, as `make build`
	// and `export PATH="$PWD/bin:$PATH"` put them.
	path := []string{filepath.Dir(chainctlBin)}
	for _, tool := range readmeTools {
		if dir := filepath.Dir(requireTool(t, tool)); !slices.Contains(path, dir) {
			path = append(path, dir)
		}
	}
	path = append(path, filepath.SplitList(os.Getenv("PATH"))...)

	srv := startServer(t, "--dev")
	_, port, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	registry := "localhost:" + port

	// A newcomer's machine: a fresh home (docker, regctl and chainctl
	// configuration, the token cache) and the checkout as the working
	// directory, of which the commands need README.md.
	home := t.TempDir()
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "README.md"), readme, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + strings.Join(path, string(filepath.ListSeparator))}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "PATH", strings.HasPrefix(k, "CHAINCTL_"), strings.HasPrefix(k, "XDG_"),
			k == "DOCKER_CONFIG", k == "REGISTRY_AUTH_FILE", strings.HasPrefix(k, "REGCTL_"), k == "SSL_CERT_FILE",
			// Ambient CI credentials would log in by themselves.
			strings.HasPrefix(k, "ACTIONS_"), k == "GITHUB_ACTIONS", k == "GITLAB_CI", k == "BUILDKITE", k == "CIRCLECI":
			continue
		}
		env = append(env, kv)
	}

	ctx, cancel := contextWithTimeout(t, 5*time.Minute)
	defer cancel()
	for _, name := range readmeBlocks {
		script := strings.ReplaceAll(blocks[name], readmeRegistry, registry)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-x", "-c", script)
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README.md's %s commands failed: %v\n%s\nserver output:\n%s", name, err, out, srv.out)
		}
	}

	// What the blocks promise, checked with chainctl's own client: the
	// login is a session of the dev user, and every push arrived.
	if out := runTool(t, ctx, env, chainctlBin, "auth", "status"); !strings.Contains(out, "Logged in to "+registry) || !strings.Contains(out, "Identity: dev") {
		t.Errorf("auth status after the README's login = %q", out)
	}
	crane := requireTool(t, "crane")
	tags := runTool(t, ctx, env, crane, "ls", registry+"/demo/hello")
	for _, tag := range []string{"v1", "skopeo", "regctl"} {
		if !slices.Contains(strings.Fields(tags), tag) {
			t.Errorf("demo/hello tags = %q, want %s (pushed by the README's commands)", tags, tag)
		}
	}
	if b, err := os.ReadFile(filepath.Join(work, "notes", "README.md")); err != nil || string(b) != string(readme) {
		t.Errorf("oras pull left notes/README.md = %d bytes, %v; want the README pushed", len(b), err)
	}
}
