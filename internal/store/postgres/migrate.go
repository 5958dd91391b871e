package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store/rowcodec"

	"github.com/chainctl/chainctl/internal/store/sqlmigrate"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema changes, applied in the order of their
// numeric prefix (0001_init.sql, 0002_...). A released file never changes;
// a change to the schema is a new file, with a twin of the same version in
// the SQLite backend.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the first key of the advisory lock that serializes
// migrations ("chai"); the second is a hash of the schema being migrated,
// so that databases holding several schemas migrate them independently.
const migrationLock int32 = 0x63686169

const (
	qLockMigrations = `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`

	qCreateMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    applied BIGINT  NOT NULL
)`

	qAppliedMigrations = `SELECT version FROM schema_migrations`

	qRecordMigration = `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`
)

// migrate applies the migrations the database has not seen, all in one
// transaction: PostgreSQL's DDL is transactional, so either the schema
// ends up current or it is left as it was. The transaction first takes an
// advisory lock, so replicas starting at once queue there; each after the
// first finds the versions recorded and applies nothing.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := sqlmigrate.Load(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	var done []string
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		done = nil
		if _, err := tx.Exec(ctx, qLockMigrations, migrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, qCreateMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, qAppliedMigrations)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		latest := 0
		for _, v := range versions {
			applied[int(v)] = true
			latest = max(latest, int(v))
		}
		if known := ms[len(ms)-1].Version; latest > known {
			return fmt.Errorf("database schema version %d is newer than this chainctl supports (%d)", latest, known)
		}
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			// Without arguments pgx sends the file as one simple query,
			// which may hold several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, qRecordMigration, m.Version, m.Name, rowcodec.Nanos(time.Now())); err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
			done = append(done, m.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range done {
		db.log.InfoContext(ctx, "applied database migration", "migration", name)
	}
	return nil
}
