// Package config turns flags, CHAINCTL_* environment variables and a YAML
// file into typed configuration structs. It is the only package that imports
// viper; everything else receives the structs as values.
//
// Every setting has one name, used as the flag (--data-dir), in
// snake_case as the YAML key (data_dir:, see FileKey; the kebab-case of
// older versions is still read, with a warning) and, upper-cased with
// CHAINCTL_, the environment variable (CHAINCTL_DATA_DIR). Precedence,
// highest first: flag, environment, file, default. docs/configuration.md
// lists them all.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The setting names.
const (
	KeyConfig      = "config"
	KeyListen      = "listen"
	KeyDataDir     = "data-dir"
	KeyStorage     = "storage"
	KeyDatabase    = "database"
	KeyTLSCert     = "tls-cert"
	KeyTLSKey      = "tls-key"
	KeyExternalURL = "external-url"
	KeyDev         = "dev"
	// KeyAuth names the auth section of the configuration file: a mapping,
	// read only from the file (no flag or environment variable).
	KeyAuth = "auth"
	// KeyEvents names the events section of the configuration file: a
	// mapping, read only from the file (see Events).
	KeyEvents = "events"
)

// EnvPrefix starts every environment variable chainctl reads.
const EnvPrefix = "CHAINCTL_"

// DefaultListen is where the registry listens unless told otherwise: loopback
// only, so that a first run exposes nothing.
const DefaultListen = "127.0.0.1:5000"

// EnvName returns the environment variable for a setting: "data-dir" ->
// "CHAINCTL_DATA_DIR".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// Option changes where Load functions look.
type Option func(*options)

type options struct {
	lookupEnv func(string) (string, bool)
	goos      string
}

func newOptions(opts []Option) options {
	o := options{lookupEnv: os.LookupEnv, goos: runtime.GOOS}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithLookupEnv reads environment variables through fn instead of
// os.LookupEnv, so tests need not touch the process environment.
func WithLookupEnv(fn func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = fn }
}

// WithGOOS computes platform defaults (the data directory) as on goos.
func WithGOOS(goos string) Option { return func(o *options) { o.goos = goos } }

func (o options) getenv(key string) string {
	v, _ := o.lookupEnv(key)
	return v
}

// DefaultDataDir returns chainctl's directory under the user's data
// directory: $XDG_DATA_HOME/chainctl or ~/.local/share/chainctl on Linux and
// other Unix systems, ~/Library/Application Support/chainctl on macOS,
// %LocalAppData%\chainctl on Windows.
func DefaultDataDir(opts ...Option) (string, error) {
	return newOptions(opts).defaultDataDir()
}

func (o options) defaultDataDir() (string, error) {
	switch o.goos {
	case "windows":
		if d := o.getenv("LocalAppData"); d != "" {
			return strings.TrimRight(d, `\/`) + `\chainctl`, nil
		}
		return "", fmt.Errorf("cannot find the data directory: %%LocalAppData%% is not set; set %s instead", KeyDataDir)
	case "darwin", "ios":
		home := o.getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("cannot find the data directory: $HOME is not set; set %s instead", KeyDataDir)
		}
		return filepath.Join(home, "Library", "Application Support", "chainctl"), nil
	default:
		// The XDG base directory spec says to ignore relative paths.
		if d := o.getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
			return filepath.Join(d, "chainctl"), nil
		}
		home := o.getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("cannot find the data directory: neither $XDG_DATA_HOME nor $HOME is set; set %s instead", KeyDataDir)
		}
		return filepath.Join(home, ".local", "share", "chainctl"), nil
	}
}

// expandPath expands a leading "~/" (YAML files and quoted environment values
// do not go through a shell) and makes p absolute, so that logs and the
// startup banner say exactly where data lives.
func (o options) expandPath(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		home := o.getenv("HOME")
		if o.goos == "windows" {
			home = o.getenv("USERPROFILE")
		}
		if home == "" {
			return "", fmt.Errorf("cannot expand %q: no home directory", p)
		}
		p = filepath.Join(home, p[1:])
	}
	if o.goos != runtime.GOOS {
		return p, nil // paths of another platform cannot be made absolute here
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", p, err)
	}
	return abs, nil
}
