package sqlstore

// Schema migrations: files NNNN_name.sql embedded by each database's
// package, in its types, one-to-one between the databases (same versions,
// same names), applied in version order.

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one schema migration.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations returns the migrations in dir of fsys (NNNN_name.sql) sorted by
// version. It fails on a file without a numeric prefix, on two files with
// the same version, and when there are none.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version", other, e.Name())
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Migrate applies the migrations in dir of fsys that db has not seen, all
// in one transaction: both databases' DDL is transactional, so either the
// schema ends up current or it is left as it was. Processes migrating one
// database at once are serialized (SQLite's write lock taken at BEGIN,
// d.LockMigrations elsewhere); each after the first finds the versions
// recorded and applies nothing. Migrate fails, changing nothing, if the
// database was migrated by a newer chainctl.
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, fsys fs.FS, dir string, log *slog.Logger) error {
	ms, err := LoadMigrations(fsys, dir)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{d: d, log: log, w: db}
	var done []string
	err = s.inTx(ctx, func(tx Conn) error {
		done = nil
		if d.LockMigrations != nil {
			if err := d.LockMigrations(ctx, tx); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.CreateMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		versions, err := collect(ctx, text{tx, `SELECT version FROM schema_migrations`}, func(r scanner) (int, error) {
			var v int
			err := r.Scan(&v)
			return v, err
		})
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		latest := 0
		for _, v := range versions {
			applied[v] = true
			latest = max(latest, v)
		}
		if known := ms[len(ms)-1].Version; latest > known {
			return fmt.Errorf("database schema version %d is newer than this chainctl supports (%d)", latest, known)
		}
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			// Without arguments both drivers run the file as it is, several
			// statements at once.
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
				m.Version, m.Name, nanos(time.Now())); err != nil {
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
		log.InfoContext(ctx, "applied database migration", "migration", name)
	}
	return nil
}
