package config

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/pflag"
)

// Key-encryption key setting names. KeyKEK is read from the environment
// only (CHAINCTL_KEY_ENCRYPTION_KEY): a flag would show the key in the
// process list, and a configuration file is copied about more than a
// secret should be.
const (
	KeyKEKFile = "key-encryption-key-file"
	KeyKEK     = "key-encryption-key"
)

// DefaultKEKFileName is the keyring file under the data directory that a
// registry on SQLite creates on its first start when no key-encryption key
// is configured.
const DefaultKEKFileName = "key-encryption-key"

// KeyEncryption says where the key-encryption keys that seal the issuer's
// signing keys at rest come from: Keys, else File; both empty when none is
// configured and there is no default (a postgres:// database, whose
// replicas must share one).
type KeyEncryption struct {
	// File is the keyring file, one base64 key a line, the sealing key
	// first.
	File string
	// Default reports that File is the default under the data directory,
	// which the registry creates when it is missing.
	Default bool
	// Keys is the keyring text from CHAINCTL_KEY_ENCRYPTION_KEY.
	Keys Secret
}

// Secret is a configured secret. Printing or logging it shows only
// whether it is set.
type Secret string

// String implements fmt.Stringer without the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "(set)"
}

// GoString is String, so that %#v hides it too.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

func addKEKFlags(fs *pflag.FlagSet, env func(string) string) {
	fs.String(KeyKEKFile, "", "keyring `file` of the key-encryption keys that seal the signing keys in the database: one base64 AES-256 key a line, the sealing key first; "+
		"or the keys themselves in $"+EnvName(KeyKEK)+"; default on SQLite: <data-dir>/"+DefaultKEKFileName+", created on first start"+env(KeyKEKFile))
}

// resolveKEK reads the key-encryption settings; cfg's database and data
// directory are resolved.
func (o options) resolveKEK(get func(string) string, cfg *Serve) (KeyEncryption, error) {
	file, keys := get(KeyKEKFile), o.getenv(EnvName(KeyKEK))
	switch {
	case file != "" && keys != "":
		return KeyEncryption{}, fmt.Errorf("both %s and $%s are set: use one", KeyKEKFile, EnvName(KeyKEK))
	case keys != "":
		return KeyEncryption{Keys: Secret(keys)}, nil
	case file != "":
		p, err := o.expandPath(file)
		if err != nil {
			return KeyEncryption{}, fmt.Errorf("%s: %w", KeyKEKFile, err)
		}
		return KeyEncryption{File: p}, nil
	case cfg.Database.Type == DatabaseSQLite && cfg.DataDir != "":
		return KeyEncryption{File: filepath.Join(cfg.DataDir, DefaultKEKFileName), Default: true}, nil
	}
	return KeyEncryption{}, nil
}

// ErrNoKEK is returned by KeyEncryption.Check when nothing is configured.
var ErrNoKEK = errors.New("no key-encryption key")

// Check reports ErrNoKEK, with what to set, when k names no keys.
func (k KeyEncryption) Check(db Database) error {
	if k.File != "" || k.Keys != "" {
		return nil
	}
	why := "there is no data directory to keep a default one in"
	if db.Type == DatabasePostgres {
		why = "every replica sharing a postgres:// database must seal with the same key"
	}
	return fmt.Errorf("%w: %s; set %s (a file holding `head -c 32 /dev/urandom | base64`, mode 0600) or $%s",
		ErrNoKEK, why, KeyKEKFile, EnvName(KeyKEK))
}

// AddKeyFlags defines the settings a command that manages the signing
// keys beside a running server needs (`registry keys rotate`): the
// configuration file, data directory and database, and the key-encryption
// keys. LoadServe
// takes the rest from the environment, the file or the defaults.
func AddKeyFlags(fs *pflag.FlagSet) {
	var backend pflag.FlagSet
	AddBackendFlags(&backend)
	backend.VisitAll(func(f *pflag.Flag) {
		if f.Name != KeyStorage { // the keys live in the database
			fs.AddFlag(f)
		}
	})
	addKEKFlags(fs, func(key string) string { return "; env " + EnvName(key) })
}
