// Package postgres is the scale-out metadata store: store.Store on a
// PostgreSQL database shared by any number of stateless registry replicas.
//
// The store itself is package sqlstore's, run through database/sql on
// pgx's stdlib driver; this package connects and supplies PostgreSQL's
// dialect. The schema is the SQLite backend's, in PostgreSQL types,
// applied by embedded migrations at Open under an advisory lock. Writes
// run at READ COMMITTED with explicit row locks where a read decides a
// write (the previous digest of a tag) and advisory locks where rows alone
// would not order two writers, and are retried on serialization failures
// and deadlocks. Nothing is cached in the process: another replica may
// have written since.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlstore"
)

var _ store.Store = (*DB)(nil)

// migrations are the schema changes, applied in the order of their
// numeric prefix (0001_init.sql, 0002_...). A released file never changes;
// a change to the schema is a new file, with a twin of the same version in
// the SQLite backend.
//
//go:embed migrations/*.sql
var migrations embed.FS

// First keys of the advisory locks; the second is a hash of what is
// locked.
const (
	// migrationLock serializes migrations ("chai"), per schema, so that
	// databases holding several schemas migrate them independently.
	migrationLock int32 = 0x63686169
	// blobLockKey orders LinkBlob and TombstoneBlob of a digest ("blob").
	blobLockKey int32 = 0x626c6f62
	// uploadLockKey orders CreateUploads of an owner, and of a repository,
	// counting open uploads against UploadCaps ("upld").
	uploadLockKey int32 = 0x75706c64
)

const (
	qLockMigrations = `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`

	qCreateMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    applied BIGINT  NOT NULL
)`

	qLockBlobDigest = `SELECT pg_advisory_xact_lock($1, hashtext($2))`

	qLockUploads = `SELECT pg_advisory_xact_lock($1, hashtext($2)), pg_advisory_xact_lock($1, hashtext($3))`
)

// dialect is PostgreSQL's.
func dialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:                  "postgres",
		TxOptions:             &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		ManualTx:              "BEGIN ISOLATION LEVEL READ COMMITTED",
		LaxTx:                 "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO OFF",
		ForUpdate:             " FOR UPDATE",
		ForShare:              " FOR SHARE",
		Retryable:             retryable,
		ForeignKeyViolation:   func(err error) bool { return hasCode(err, "23503") },
		UniqueViolation:       func(err error) bool { return hasCode(err, "23505") },
		SkipLocked:            " FOR UPDATE OF d SKIP LOCKED",
		CreateMigrationsTable: qCreateMigrationsTable,
		LockBlob: func(ctx context.Context, tx sqlstore.Conn, dgst string) error {
			_, err := tx.ExecContext(ctx, qLockBlobDigest, blobLockKey, dgst)
			return err
		},
		LockUploads: func(ctx context.Context, tx sqlstore.Conn, owner, repo string) error {
			_, err := tx.ExecContext(ctx, qLockUploads, uploadLockKey, owner, repo)
			return err
		},
		LockMigrations: func(ctx context.Context, tx sqlstore.Conn) error {
			_, err := tx.ExecContext(ctx, qLockMigrations, migrationLock)
			return err
		},
		AllocSeqs:   allocSeqs,
		OverrideSeq: " OVERRIDING SYSTEM VALUE",
	}
}

// allocSeqs takes n seqs from the events table's identity sequence, in one
// round trip. Another replica's may interleave: the block need not be
// contiguous.
func allocSeqs(ctx context.Context, tx sqlstore.Conn, n int) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, $1::integer) ORDER BY 1`, n)
	if err != nil {
		return nil, fmt.Errorf("allocate %d event seqs: %w", n, err)
	}
	defer rows.Close()
	seqs := make([]int64, 0, n)
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("allocate %d event seqs: %w", n, err)
		}
		seqs = append(seqs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("allocate %d event seqs: %w", n, err)
	}
	if len(seqs) != n {
		return nil, fmt.Errorf("allocate %d event seqs: got %d", n, len(seqs))
	}
	return seqs, nil
}

// retryable reports whether err is PostgreSQL aborting a transaction that
// would succeed if run again: serialization_failure or deadlock_detected.
func retryable(err error) bool {
	return hasCode(err, "40001") || hasCode(err, "40P01")
}

func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// Option configures Open.
type Option = sqlstore.Option

// WithLogger sets the logger for migrations and retried transactions. The
// default discards them. Nothing logged contains the DSN's password.
func WithLogger(l *slog.Logger) Option { return sqlstore.WithLogger(l) }

// DB is a store.Store backed by PostgreSQL. It is safe for concurrent use,
// also by several processes on one database.
type DB struct {
	*sqlstore.Store
	db *sql.DB
}

// Open connects to the database named by dsn, a libpq connection string
// or URL, and applies pending migrations. Replicas opening the same
// database at once apply them once. Open fails if the database was
// migrated by a newer chainctl.
//
// The DSN may carry pgx's pool settings (pool_max_conns,
// pool_max_conn_lifetime, pool_max_conn_idle_time), which size the
// database/sql pool, and runtime parameters: search_path=<schema> keeps
// the tables in a schema of their own, which must exist. Queries are
// prepared and cached per connection; behind a transaction-pooling proxy
// such as PgBouncer, add default_query_exec_mode=exec.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	o := sqlstore.ApplyOptions(opts)
	// pgxpool's parser knows the pool_* settings (the connection's would
	// send them to the server as runtime parameters).
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx replaces the password in the connection string it quotes.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	cc := cfg.ConnConfig
	where := fmt.Sprintf("%s@%s:%d/%s", cc.User, cc.Host, cc.Port, cc.Database)
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	// Connect first, so that an unreachable server is reported as such
	// rather than as a failed migration.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: connect: %w", where, err)
	}
	if err := sqlstore.Migrate(ctx, db, dialect(), migrations, "migrations", o.Logger); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	s, err := sqlstore.New(ctx, sqlstore.Config{Dialect: dialect(), Reader: db, Writer: db, Logger: o.Logger})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	return &DB{Store: s, db: db}, nil
}
