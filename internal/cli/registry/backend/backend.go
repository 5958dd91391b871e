// Package backend opens the blob store and metadata database a
// configuration names, for the `chainctl registry` commands (serve, keys,
// gc). One explicit switch per kind: there is no driver registry.
package backend

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chainctl/chainctl/internal/config"
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
