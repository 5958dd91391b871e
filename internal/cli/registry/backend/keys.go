package backend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/keywrap"
	"github.com/chainctl/chainctl/internal/store"
)

// SigningKeys returns the issuer's signing keys in meta, sealed at rest
// under the configured key-encryption keys, after sealing the keys an
// earlier version stored in the clear and re-sealing under the current
// key those an older one sealed. The result's ClearActive says how many
// keys were active while in the clear: the caller rotates them out.
func SigningKeys(ctx context.Context, cfg *config.Serve, meta store.SigningKeys, log *slog.Logger) (*keywrap.SealedKeys, keywrap.SealResult, error) {
	ring, err := OpenKeyring(ctx, cfg, meta, log)
	if err != nil {
		return nil, keywrap.SealResult{}, err
	}
	keys := keywrap.SealSigningKeys(meta, ring)
	res, err := keys.Seal(ctx)
	if err != nil {
		return nil, res, fmt.Errorf("seal signing keys: %w", err)
	}
	if res.Clear > 0 {
		log.Info("signing keys stored in the clear by an earlier version are now sealed", "count", res.Clear, "kek", ring.Current())
	}
	if res.Resealed > 0 {
		log.Info("signing keys re-sealed under the current key-encryption key", "count", res.Resealed, "kek", ring.Current())
	}
	return keys, res, nil
}

// OpenKeyring returns the configured key-encryption keyring: from
// $CHAINCTL_KEY_ENCRYPTION_KEY, the configured file, or the default file
// in the data directory, which it creates (one new key, mode 0600) when
// it is missing and meta holds no sealed key.
func OpenKeyring(ctx context.Context, cfg *config.Serve, meta store.SigningKeys, log *slog.Logger) (*keywrap.Keyring, error) {
	k := cfg.KeyEncryption
	if err := k.Check(cfg.Database); err != nil {
		return nil, err
	}
	if k.Keys != "" {
		ring, err := keywrap.ParseKeyring([]byte(k.Keys))
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", config.EnvName(config.KeyKEK), err)
		}
		return ring, nil
	}
	if !k.Default {
		return keywrap.LoadFile(k.File)
	}
	if _, err := os.Stat(k.File); errors.Is(err, fs.ErrNotExist) {
		// A new key would open nothing already sealed: say what is lost.
		stored, err := meta.SigningKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
		for _, sk := range stored {
			if sk.KEK != "" {
				return nil, fmt.Errorf("the database's signing keys are sealed under key-encryption key %s, but %s does not exist: "+
					"restore it from where you keep it apart from the database, or point %s at it", sk.KEK, k.File, config.KeyKEKFile)
			}
		}
	}
	ring, created, err := keywrap.LoadOrCreateFile(k.File)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created a key-encryption key for the signing keys; back it up apart from the database: without it the registry cannot sign, and with the database it mints tokens",
			"file", k.File, "kek", ring.Current())
	}
	return ring, nil
}
