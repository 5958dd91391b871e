// Package postgres is the scale-out metadata store: store.Store on a
// PostgreSQL database shared by any number of stateless registry replicas.
//
// It uses pgx's native API through a connection pool. The schema is the
// SQLite backend's, in PostgreSQL types, applied by embedded migrations at
// Open under an advisory lock. Writes run at READ COMMITTED with explicit
// row locks where a read decides a write (the previous digest of a tag),
// and are retried on serialization failures and deadlocks. Nothing is
// cached in the process: another replica may have written since.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chainctl/chainctl/internal/store"
)

var _ store.Store = (*DB)(nil)

// maxAttempts bounds how often a write transaction is tried when
// PostgreSQL aborts it for a serialization failure or a deadlock.
const maxAttempts = 8

// Option configures Open.
type Option func(*options)

type options struct {
	logger *slog.Logger
}

// WithLogger sets the logger for migrations and retried transactions. The
// default discards them. Nothing logged contains the DSN's password.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// DB is a store.Store backed by PostgreSQL. It is safe for concurrent use,
// also by several processes on one database.
type DB struct {
	log  *slog.Logger
	pool *pgxpool.Pool
}

// Open connects to the database named by dsn, a libpq connection string
// or URL, and applies pending migrations. Replicas opening the same
// database at once apply them once. Open fails if the database was
// migrated by a newer chainctl.
//
// The DSN may carry pgx's pool settings (pool_max_conns, ...) and runtime
// parameters: search_path=<schema> keeps the tables in a schema of their
// own, which must exist. Queries are prepared and cached per connection;
// behind a transaction-pooling proxy such as PgBouncer, add
// default_query_exec_mode=exec.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx replaces the password in the connection string it quotes.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	where := fmt.Sprintf("%s@%s:%d/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	// Connect first, so that an unreachable server is reported as such
	// rather than as a failed migration.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: connect: %w", where, err)
	}
	db := &DB{log: o.logger, pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	return db, nil
}

// Ping implements store.Store.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close implements store.Store. It waits for borrowed connections to be
// returned and closes them all; the DB is unusable afterwards.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// write runs fn in one READ COMMITTED transaction and commits it, or rolls
// it back when fn fails. When PostgreSQL aborts the transaction for a
// serialization failure or a deadlock, write runs fn again in a new one,
// so fn must not keep state from an earlier attempt.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		db.log.DebugContext(ctx, "retrying postgres transaction", "attempt", attempt, "err", err)
		// Jittered, growing pause, so that the transactions that collided
		// do not collide again.
		pause := time.Duration(rand.Int64N(int64(attempt)*int64(5*time.Millisecond))) + time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// retryable reports whether err is PostgreSQL aborting a transaction that
// would succeed if run again: serialization_failure or deadlock_detected.
func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40001" || pgErr.Code == "40P01"
}

// errRetry marks an error after which write runs the transaction again.
var errRetry = errors.New("conflict with a concurrent transaction")

// retryOnForeignKey marks a foreign key violation (23503) retryable: a
// row the statement referred to was deleted by a concurrent transaction
// (garbage collection), and running again takes the new state into account.
func retryOnForeignKey(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	return err
}

// notFound maps pgx.ErrNoRows to store.ErrNotFound and leaves other errors
// as they are.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// affectedOne returns store.ErrNotFound when a statement changed no row.
func affectedOne(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
