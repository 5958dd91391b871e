// Package backend opens the blob store and metadata database a
// configuration names, for the `chainctl registry` commands (serve, keys,
// gc). One explicit switch per kind: there is no driver registry.
package backend

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/storage/s3"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// OpenMetadata opens the metadata database of d, applying migrations. The
// caller closes it. Errors never quote a database password.
func OpenMetadata(ctx context.Context, d config.Database, log *slog.Logger) (store.Store, error) {
	switch d.Type {
	case config.DatabaseSQLite:
		db, err := sqlite.Open(ctx, d.Path, sqlite.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open metadata database: %w", err)
		}
		return db, nil
	case config.DatabasePostgres:
		db, err := postgres.Open(ctx, d.URL, postgres.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open metadata database %s: %w", d, err)
		}
		return db, nil
	}
	return nil, fmt.Errorf("database type %q is not supported", d.Type)
}

// StorageUse says how a command shares the blob store with servers.
type StorageUse int

const (
	// StorageOwner is `registry serve`: it owns the store's temporaries
	// and cleans those a crash left.
	StorageOwner StorageUse = iota
	// StorageBeside is a command that runs next to a live server (gc): it
	// never touches the server's temporaries.
	StorageBeside
)

// OpenStorage opens the blob store of s.
func OpenStorage(ctx context.Context, s config.Storage, use StorageUse, log *slog.Logger) (storage.Store, error) {
	switch s.Type {
	case config.StorageFile:
		opts := []fs.Option{fs.WithLogger(log), fs.WithSync(s.Sync)}
		if use == StorageBeside {
			opts = append(opts, fs.WithKeepTemporaries())
		}
		st, err := fs.New(s.Path, opts...)
		if err != nil {
			return nil, fmt.Errorf("open blob storage: %w", err)
		}
		return st, nil
	case config.StorageS3:
		// Nothing in the bucket belongs to one process: upload state is
		// shared by every replica, so use makes no difference.
		cfg, err := s3.ParseURL(s.URL)
		if err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		st, err := s3.New(ctx, cfg, s3.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open blob storage: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("storage type %q is not supported", s.Type)
}
