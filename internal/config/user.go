package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/chainctl/chainctl/internal/atomicfile"
	"github.com/chainctl/chainctl/internal/privdir"
)

// User is the client's configuration file, UserConfigPath: settings of the
// person running chainctl, not of a registry server.
type User struct {
	// Registry is the default registry of `chainctl auth` commands, as
	// HOST[:PORT] or http(s)://HOST[:PORT].
	Registry string `yaml:"registry,omitempty"`
}

// UserKeyRegistry is the name of User.Registry in the file and in
// `chainctl config get|set`.
const UserKeyRegistry = "registry"

// UserKeys lists the keys of the user configuration file.
var UserKeys = []string{UserKeyRegistry}

// UserConfigPath is os.UserConfigDir()/chainctl/config.yaml.
func UserConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("user configuration directory: %w", err)
	}
	return filepath.Join(dir, "chainctl", "config.yaml"), nil
}

// LoadUser reads the user configuration file at path. A missing file is
// the zero User; an unknown key is an error. The file names the registry
// that logins send ID tokens to, so it is read only from a directory and
// file that other users cannot write: looser modes are tightened first
// (privdir), and a file or directory of another user is refused.
func LoadUser(path string) (User, error) {
	if err := securePath(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return User{}, nil
		}
		return User{}, fmt.Errorf("read user configuration: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return User{}, nil
	}
	if err != nil {
		return User{}, fmt.Errorf("read user configuration: %w", err)
	}
	if len(b) > maxFileSize {
		return User{}, fmt.Errorf("user configuration %s: larger than %d bytes", path, maxFileSize)
	}
	var u User
	if len(bytes.TrimSpace(b)) == 0 {
		return u, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&u); err != nil {
		return User{}, fmt.Errorf("user configuration %s: %w", path, err)
	}
	return u, nil
}

// SaveUser writes u to path atomically (a temp file in the same directory,
// fsynced, mode 0600, renamed into place), creating the directory with
// mode 0700 when missing and tightening it to 0700 when it is looser.
func SaveUser(path string, u User) (err error) {
	data, err := yaml.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode user configuration: %w", err)
	}
	if err := privdir.Ensure(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write user configuration: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600, ".config-"); err != nil {
		return fmt.Errorf("write user configuration: %w", err)
	}
	return nil
}

// securePath makes the existing directory of path, and path itself, private
// to the current user. It returns an error wrapping fs.ErrNotExist when
// either is missing, creating nothing.
func securePath(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	if err := privdir.Ensure(dir); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := privdir.CheckOwner(fi); err != nil {
		return fmt.Errorf("%w: %s is %v", privdir.ErrInsecure, path, err)
	}
	return privdir.Tighten(path, fi)
}
