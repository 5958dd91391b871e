package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/chainctl/chainctl/internal/store/rowcodec"

	"github.com/chainctl/chainctl/internal/store/sqlmigrate"
)

// migrations are the schema changes, applied in the order of their
// numeric prefix (0001_init.sql, 0002_...). A released file never changes;
// a change to the schema is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    applied INTEGER NOT NULL
)`

// migrate applies the migrations db has not seen, all in one transaction:
// either the schema ends up current or it is left as it was. The write
// lock taken at BEGIN serializes processes that open the same file at
// once; the second sees the first's versions and applies nothing.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	ms, err := sqlmigrate.Load(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	latest := 0
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		applied[v] = true
		latest = max(latest, v)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	if known := ms[len(ms)-1].Version; latest > known {
		return fmt.Errorf("migrate: database schema version %d is newer than this chainctl supports (%d)", latest, known)
	}

	var done []string
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
			m.Version, m.Name, rowcodec.Nanos(time.Now())); err != nil {
			return fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	for _, name := range done {
		log.InfoContext(ctx, "applied database migration", "migration", name)
	}
	return nil
}
