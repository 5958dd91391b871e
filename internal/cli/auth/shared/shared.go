// Package shared is what every command that calls a registry shares:
// --registry and how the registry is chosen, how the login session is
// found, the hints that name `chainctl auth login`, and opening a browser.
// internal/cli.NewFactory builds the Factory's Registry, Session and
// OpenBrowser on these functions; commands take those from the Factory.
package shared

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/session"
)

// EnvRegistry overrides the configured default registry.
const EnvRegistry = "CHAINCTL_REGISTRY"

// AddRegistryFlag registers --registry on fs.
func AddRegistryFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "registry", "", "registry `HOST[:PORT]` or URL (default $"+EnvRegistry+", then `chainctl config get registry`)")
}

// ResolveRegistry picks the registry: flag, else $CHAINCTL_REGISTRY, else
// the user configuration's registry. It is normalised by
// session.ParseRegistry.
func ResolveRegistry(flag string, lookupEnv func(string) (string, bool), userConfig func() (config.User, error)) (session.Registry, error) {
	s := strings.TrimSpace(flag)
	if s == "" && lookupEnv != nil {
		if v, ok := lookupEnv(EnvRegistry); ok {
			s = strings.TrimSpace(v)
		}
	}
	if s == "" && userConfig != nil {
		u, err := userConfig()
		if err != nil {
			return session.Registry{}, err
		}
		s = u.Registry
	}
	if s == "" {
		return session.Registry{}, &cmdutil.HintError{
			Err:  errors.New("no registry given"),
			Hint: "pass --registry HOST, set " + EnvRegistry + ", or run `chainctl config set registry HOST`",
		}
	}
	reg, err := session.ParseRegistry(s)
	if err != nil {
		return session.Registry{}, cmdutil.FlagErrorf("%v", err)
	}
	return reg, nil
}

// EnvBrowser names the command that opens login URLs instead of the
// desktop's browser: its value is split on white space and the URL is
// appended as the last argument (CHAINCTL_BROWSER="firefox --new-window").
const EnvBrowser = "CHAINCTL_BROWSER"

// OpenBrowser asks the desktop to open url, best effort: the command in
// $CHAINCTL_BROWSER when set, else xdg-open on Linux and BSDs (only with a
// display), open on macOS, rundll32 on Windows. lookupEnv reads the
// environment. The caller prints the URL whatever happens.
func OpenBrowser(ctx context.Context, lookupEnv func(string) (string, bool), url string) error {
	if v, ok := lookupEnv(EnvBrowser); ok && strings.TrimSpace(v) != "" {
		return runBrowser(ctx, strings.Fields(v), url)
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", url)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		env := func(k string) string { v, _ := lookupEnv(k); return v }
		if env("DISPLAY") == "" && env("WAYLAND_DISPLAY") == "" {
			return errors.New("no display to open a browser on")
		}
		cmd = exec.CommandContext(ctx, "xdg-open", url)
	}
	return cmd.Run()
}

// browserGrace is how long runBrowser waits for the browser command to
// fail before it counts it as started.
const browserGrace = 3 * time.Second

// runBrowser starts argv with url appended. A command that exits
// non-zero soon is an error; one still running after browserGrace (a
// browser in the foreground) is left running.
func runBrowser(ctx context.Context, argv []string, url string) error {
	cmd := exec.Command(argv[0], append(argv[1:], url)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("$%s: %w", EnvBrowser, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(browserGrace)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("$%s: %w: %s", EnvBrowser, err, bytes.TrimSpace(out.Bytes()))
		}
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	}
}
