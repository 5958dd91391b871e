// Command gendocs writes chainctl's generated files from the cobra command
// tree: a markdown page per command (docs/cli) and shell completion scripts
// (completions). `make generate` runs it; a test fails when the checked-in
// files are stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/chainctl/chainctl/internal/cli"
	"github.com/chainctl/chainctl/internal/cli/completion"
	"github.com/chainctl/chainctl/internal/iostreams"
)

func main() {
	docsDir := flag.String("docs", "docs/cli", "directory for the markdown command reference")
	complDir := flag.String("completions", "completions", "directory for shell completion scripts")
	flag.Parse()
	if err := generate(*docsDir, *complDir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1) // a build tool, not chainctl: it has no exit-code mapping
	}
}

// completionFiles maps each shell to the file its script goes in.
var completionFiles = map[string]string{
	"bash":       "chainctl.bash",
	"zsh":        "chainctl.zsh",
	"fish":       "chainctl.fish",
	"powershell": "chainctl.ps1",
}

// generate writes the command reference into docsDir, replacing every .md
// file there (so a removed command's page goes too), and the completion
// scripts into complDir.
func generate(docsDir, complDir string) error {
	root := newRoot()
	if err := os.MkdirAll(docsDir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, docsDir); err != nil {
		return fmt.Errorf("markdown: %w", err)
	}

	if err := os.MkdirAll(complDir, 0o755); err != nil {
		return err
	}
	for _, shell := range completion.Shells {
		var b strings.Builder
		if err := completion.Generate(root, shell, &b); err != nil {
			return fmt.Errorf("%s completion: %w", shell, err)
		}
		if err := os.WriteFile(filepath.Join(complDir, completionFiles[shell]), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// newRoot returns the command tree as a user would see it, with output
// that does not depend on this machine: no dates, no terminal.
func newRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	root := cli.NewCmdRoot(cli.NewFactory(ios))
	root.InitDefaultHelpCmd()
	var disable func(*cobra.Command)
	disable = func(c *cobra.Command) {
		c.DisableAutoGenTag = true // no "Auto generated on <date>" line
		for _, sub := range c.Commands() {
			disable(sub)
		}
	}
	disable(root)
	return root
}
