package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/chainctl/chainctl"

const (
	cobra    = "github.com/spf13/cobra"
	viper    = "github.com/spf13/viper"
	lipgloss = "github.com/charmbracelet/lipgloss"
)

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

// listPackages runs `go list -deps`-style listing of every package in the
// module, with their direct imports and transitive dependencies.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to list packages with: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-e", "-json=ImportPath,Imports,Deps,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

func dependsOn(deps []string, mod string) bool {
	for _, d := range deps {
		if d == mod || strings.HasPrefix(d, mod+"/") {
			return true
		}
	}
	return false
}

// TestLayering: the CLI layer (internal/cli/...) may use anything; iostreams
// may use lipgloss; config may use viper. Every other package of the module —
// registry, server, storage, store, credhelper, and whatever comes next — is
// a domain package and depends on none of them, not even indirectly.
func TestLayering(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if rel == "cmd/chainctl" || rel == "internal/cli" || strings.HasPrefix(rel, "internal/cli/") || strings.HasPrefix(rel, "internal/depcheck") {
			continue
		}
		if !strings.HasPrefix(rel, "internal/") {
			continue // tools such as the benchmark program
		}
		forbidden := []string{cobra, viper, lipgloss}
		switch rel {
		case "internal/iostreams":
			forbidden = []string{cobra, viper}
		case "internal/config":
			forbidden = []string{cobra, lipgloss}
		}
		t.Run(rel, func(t *testing.T) {
			if p.Error != nil {
				t.Logf("go list: %s", p.Error.Err)
			}
			for _, f := range forbidden {
				if dependsOn(p.Deps, f) {
					t.Errorf("%s depends on %s; domain packages must not (DESIGN.md: cli -> domain -> storage/store)", rel, f)
				}
			}
		})
	}
}

// TestPolicyIsPure: the authorization model (internal/policy) is rules
// only: it depends on no other package of the module, so that nothing it
// decides can hang on storage, HTTP or token verification.
func TestPolicyIsPure(t *testing.T) {
	found := false
	for _, p := range listPackages(t) {
		if p.ImportPath != module+"/internal/policy" {
			continue
		}
		found = true
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"/") {
				t.Errorf("internal/policy depends on %s; it must stay pure rules", d)
			}
		}
	}
	if !found {
		t.Error("go list did not report internal/policy")
	}
}

// TestOnlyConfigImportsViper: configuration is read in one place and passed
// down as typed values.
func TestOnlyConfigImportsViper(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath == module+"/internal/config" {
			continue
		}
		if dependsOn(p.Imports, viper) {
			t.Errorf("%s imports viper; only internal/config may", p.ImportPath)
		}
	}
}

// TestDomainPackagesAreChecked guards the test itself: if the listing
// silently missed the packages it exists for, it would pass forever.
func TestDomainPackagesAreChecked(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range listPackages(t) {
		seen[strings.TrimPrefix(p.ImportPath, module+"/")] = true
	}
	for _, want := range []string{"internal/registry", "internal/server", "internal/credhelper", "internal/storage", "internal/store", "internal/config"} {
		if !seen[want] {
			t.Errorf("go list did not report %s", want)
		}
	}
}

// TestHelperBinaryStaysSmall: docker runs docker-credential-chainctl before
// every pull and push, and its start-up time is what users wait for
// (docs/performance.md). It must not link the network stack, TLS or any
// third-party module but docker-credential-helpers: every package linked
// in runs its initialisation on every call.
func TestHelperBinaryStaysSmall(t *testing.T) {
	var helper *pkg
	pkgs := listPackages(t)
	for i := range pkgs {
		if pkgs[i].ImportPath == module+"/cmd/docker-credential-chainctl" {
			helper = &pkgs[i]
		}
	}
	if helper == nil {
		t.Fatal("go list did not report cmd/docker-credential-chainctl")
	}
	for _, d := range helper.Deps {
		first, _, _ := strings.Cut(d, "/")
		switch {
		case d == "net/http" || d == "crypto/tls" || d == "crypto/x509":
			t.Errorf("docker-credential-chainctl links %s", d)
		case strings.Contains(first, ".") && !strings.HasPrefix(d, module+"/") &&
			!strings.HasPrefix(d, "github.com/docker/docker-credential-helpers/"):
			t.Errorf("docker-credential-chainctl links the third-party package %s", d)
		}
	}
	if len(helper.Deps) > 120 {
		t.Errorf("docker-credential-chainctl links %d packages, want at most 120", len(helper.Deps))
	}
}
