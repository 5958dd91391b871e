// Package sqlstore is the metadata store (store.Store) written once for
// the SQL databases chainctl runs on, SQLite and PostgreSQL, through
// database/sql. The tables, queries, transactions and row encodings are
// the same for both; a Dialect carries what truly differs: how writers are
// ordered (SQLite's one writer connection against PostgreSQL's row and
// advisory locks), which failures mean "run the transaction again", and
// whether lookups are cached in the process. Packages store/sqlite and
// store/postgres open the database and supply the Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

var _ store.Store = (*Store)(nil)

// maxAttempts bounds how often a write transaction is tried when the
// dialect reports its failure retryable.
const maxAttempts = 8

// Dialect is what differs between the databases. The zero value fits a
// database with a single writer and nothing to lock or retry.
type Dialect struct {
	// Name names the database in errors ("sqlite", "postgres").
	Name string
	// Prepare prepares every statement once at New (SQLite). Otherwise
	// statements run by their text and the driver caches their
	// preparation per connection (pgx), which a transaction-pooling proxy
	// can be told to skip.
	Prepare bool
	// DetachLookups runs single indexed reads without the caller's
	// cancellation (see lookupCtx): right for an embedded database whose
	// lookups take microseconds, wrong for one across a network.
	DetachLookups bool
	// Cache answers the pull path's lookups from memory (see readCache).
	// Only for a database one process writes, whose other writers only
	// delete and are noticed through Config.Changed.
	Cache bool
	// TxOptions are the options of every transaction; nil for the
	// driver's defaults.
	TxOptions *sql.TxOptions
	// ForUpdate and ForShare end a SELECT that must lock the rows it
	// reads against concurrent writers (" FOR UPDATE", " FOR SHARE"); ""
	// where writers are serialized anyway.
	ForUpdate, ForShare string
	// DeleteManifestTags replaces QDeleteManifestTags when not "", for a
	// planner that needs a hint.
	DeleteManifestTags string
	// Retryable reports whether a transaction failed with err only
	// because of a concurrent one (a serialization failure, a deadlock)
	// and would succeed if run again; nil for never.
	Retryable func(err error) bool
	// ForeignKeyViolation reports whether err is a foreign key violation,
	// which a write that creates the rows it refers to in the same
	// transaction meets only when a concurrent one (garbage collection)
	// deleted them: the write is then retried. Nil for never.
	ForeignKeyViolation func(err error) bool
	// UniqueViolation reports whether err is a unique constraint
	// violation, which AppendEvents reports as store.ErrExists. Nil for
	// never.
	UniqueViolation func(err error) bool
	// NumberedParam, when set, writes the nth parameter of a statement
	// the store builds at run time (a multi-row insert), whose parameters
	// come in order, in the dialect's cheapest form; default "$n". SQLite
	// parses "$n" as a named parameter, looked up in a list (a statement of
	// a thousand costs quadratic time) and bound by name; a bare "?" is
	// positional.
	NumberedParam func(n int) string
	// InsertAll begins the event log's multi-row inserts, whose
	// transaction is abandoned on any error: SQLite's "INSERT OR
	// ROLLBACK", since a plain INSERT of many rows keeps a statement
	// journal (a copy of every page it changes, to undo itself alone on a
	// conflict), a sixth of the cost of recording a pull. "" is INSERT.
	InsertAll string
	// SkipLocked is appended to the query that claims due deliveries:
	// row locks that let concurrent workers pass over each other's rows
	// (" FOR UPDATE OF d SKIP LOCKED"); "" where writers are serialized.
	SkipLocked string
	// DueIndexHint follows the deliveries table in the query that claims
	// due deliveries, where the planner needs to be told which index
	// reaches the pending rows (SQLite's " INDEXED BY deliveries_due").
	// SQLite, planning without statistics, walks the primary key instead:
	// every delivered row of the subscription before the first pending
	// one, a scan that grows with every delivery made.
	DueIndexHint string
	// ManualTx, when set, runs write transactions on a connection of the
	// writer pool with this statement to begin them and COMMIT or ROLLBACK
	// to end them, their statements under a context without the caller's
	// cancellation (checked before each), instead of database/sql's Tx:
	// database/sql starts a goroutine for each transaction, and for each
	// query of one, to watch its context, which on PostgreSQL cost a
	// PutManifest a fifth of its CPU.
	ManualTx string
	// LaxTx, when set with ManualTx, begins the transactions of writes
	// whose loss in a crash of the database costs nothing acknowledged,
	// and lets them commit without waiting for the disk: PostgreSQL's
	// "BEGIN ...; SET LOCAL synchronous_commit TO OFF", one round trip.
	// They are the upload sessions a POST opens: one lost answers
	// BLOB_UPLOAD_UNKNOWN, and the client starts its upload again. A
	// later commit that waits (the push's) makes them durable with it.
	LaxTx string
	// LockBlob, when not nil, takes a transaction-scoped lock on a digest
	// that orders LinkBlob and TombstoneBlob of that digest: each reads
	// what the other writes (a tombstone, a link).
	LockBlob func(ctx context.Context, tx Conn, dgst string) error
	// LockUploads, when not nil, takes transaction-scoped locks on an
	// owner and a repository (in that order) so that concurrent
	// CreateUploads cannot both take the last place under UploadCaps.
	LockUploads func(ctx context.Context, tx Conn, owner, repo string) error
	// LockMigrations, when not nil, serializes processes migrating the same
	// database at once.
	LockMigrations func(ctx context.Context, tx Conn) error
	// Scrub, when not nil, runs after RewrapSigningKey replaced a private
	// key, to drop the old form from files where it may linger (SQLite's
	// write-ahead log).
	Scrub func(ctx context.Context, w *sql.DB) error
	// CreateMigrationsTable creates schema_migrations if it is missing.
	CreateMigrationsTable string
	// AllocSeqs takes n seqs of the event log, increasing, in tx: those of
	// a batch's packed events (packs.go) and of its rows with deliveries,
	// from the counter the events table's own seqs come from.
	AllocSeqs func(ctx context.Context, tx Conn, n int) ([]int64, error)
	// OverrideSeq follows the column list of an insert into events that
	// gives the seq itself (rows with deliveries): PostgreSQL's
	// " OVERRIDING SYSTEM VALUE" for its identity column; "" for SQLite.
	OverrideSeq string
}

// Option configures the opening of a store (sqlite.Open, postgres.Open).
type Option func(*Options)

// Options are what the Options set.
type Options struct {
	// Logger receives migrations, retried transactions and maintenance
	// messages; it never receives a secret. The default discards them.
	Logger *slog.Logger
}

// WithLogger sets Options.Logger; nil keeps the default.
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) {
		if l != nil {
			o.Logger = l
		}
	}
}

// ApplyOptions returns the defaults with opts applied in order.
func ApplyOptions(opts []Option) Options {
	o := Options{Logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Config is what New needs.
type Config struct {
	Dialect *Dialect
	// Reader runs reads outside transactions, Writer every transaction
	// and write; they may be the same pool.
	Reader, Writer *sql.DB
	// Logger receives retried transactions and failed rollbacks.
	Logger *slog.Logger
	// Changed, with Dialect.Cache, reports whether another process wrote
	// to the database since it last answered; the cache is then dropped.
	// Lookups call it, so it must be cheap.
	Changed func(ctx context.Context) bool
}

// Store is a store.Store on a SQL database. It is safe for concurrent use,
// also by several processes on one database.
type Store struct {
	d       *Dialect
	log     *slog.Logger
	r, w    *sql.DB
	q       *statements
	cache   *readCache // nil without Dialect.Cache
	changed func(ctx context.Context) bool
}

// New returns a Store on a migrated database (see Migrate), preparing its
// statements when the dialect asks. The Store owns both pools: Close
// closes them.
func New(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{d: cfg.Dialect, log: cfg.Logger, r: cfg.Reader, w: cfg.Writer, changed: cfg.Changed}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.d.Cache {
		s.cache = newReadCache()
	}
	var err error
	if s.q, err = prepareAll(ctx, s.d, s.r, s.w); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping implements store.Store. It checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.Name, err)
	}
	if s.w != s.r {
		if err := s.w.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s writer: %w", s.d.Name, err)
		}
	}
	return nil
}

// Close implements store.Store. It releases the prepared statements and
// the pools; the Store is unusable afterwards.
func (s *Store) Close() error {
	errs := []error{s.q.close(), s.r.Close()}
	if s.w != s.r {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", s.d.Name, err)
	}
	return nil
}

// write runs fn in a write transaction (see inTx) and then drops the read
// cache: the write may have changed what it holds, and a write refused
// because a blob link or manifest is gone (ErrBlobUnknown) means garbage
// collection in another process removed what the cache may still hold.
// Invalidating after a failure too is always safe.
func (s *Store) write(ctx context.Context, fn func(tx Conn) error) error {
	defer s.cache.invalidate()
	return s.inTx(ctx, fn)
}

// inTx runs fn in one transaction and commits it, or rolls it back when fn
// fails. When the dialect reports the failure retryable, inTx runs fn
// again in a new transaction after a pause, so fn must not keep state
// from an earlier attempt.
func (s *Store) inTx(ctx context.Context, fn func(tx Conn) error) error {
	return s.retry(ctx, func() error { return s.tryTx(ctx, fn) })
}

// inLaxTx is inTx for a write the dialect may commit without waiting for
// the disk (Dialect.LaxTx).
func (s *Store) inLaxTx(ctx context.Context, fn func(tx Conn) error) error {
	if s.d.LaxTx == "" || s.d.ManualTx == "" {
		return s.inTx(ctx, fn)
	}
	return s.retry(ctx, func() error { return s.tryManualTx(ctx, s.d.LaxTx, fn) })
}

// retry runs try until it succeeds, fails for good, or has been tried
// maxAttempts times.
func (s *Store) retry(ctx context.Context, try func() error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil || !s.retryable(err) || attempt == maxAttempts {
			return err
		}
		s.log.DebugContext(ctx, "retrying transaction", "database", s.d.Name, "attempt", attempt, "err", err)
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

func (s *Store) tryTx(ctx context.Context, fn func(tx Conn) error) error {
	if s.d.ManualTx != "" {
		return s.tryManualTx(ctx, s.d.ManualTx, fn)
	}
	tx, err := s.w.BeginTx(ctx, s.d.TxOptions)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.WarnContext(ctx, "rollback failed", "database", s.d.Name, "err", rerr)
		}
		return err
	}
	return tx.Commit()
}

// tryManualTx is tryTx for a dialect with ManualTx.
func (s *Store) tryManualTx(ctx context.Context, begin string, fn func(tx Conn) error) (err error) {
	c, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	tx := detached{c: c, parent: ctx}
	defer func() {
		if err == nil {
			err = c.Close()
			return
		}
		// ROLLBACK whatever failed; a connection that cannot is dropped
		// from the pool rather than handed on inside a transaction.
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			s.log.WarnContext(ctx, "rollback failed", "database", s.d.Name, "err", rerr)
			_ = c.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = c.Close()
	}()
	if _, err := tx.ExecContext(ctx, begin); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "COMMIT")
	return err
}

// detached is a connection inside a manual transaction: each statement
// runs under its caller's context stripped of cancellation (so that
// database/sql watches nothing), once the transaction's context is checked
// not to be done.
type detached struct {
	c      *sql.Conn
	parent context.Context
}

func (d detached) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := d.parent.Err(); err != nil {
		return nil, err
	}
	return d.c.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (d detached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := d.parent.Err(); err != nil {
		return nil, err
	}
	return d.c.QueryContext(context.WithoutCancel(ctx), query, args...)
}

// QueryRowContext of a transaction whose context is done runs nothing:
// database/sql answers a done context with its error, which Scan returns.
func (d detached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if d.parent.Err() != nil {
		return d.c.QueryRowContext(d.parent, query, args...)
	}
	return d.c.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// errRetry marks an error after which inTx runs the transaction again.
var errRetry = errors.New("conflict with a concurrent transaction")

func (s *Store) retryable(err error) bool {
	return errors.Is(err, errRetry) || (s.d.Retryable != nil && s.d.Retryable(err))
}

// retryOnForeignKey marks a foreign key violation retryable (see
// Dialect.ForeignKeyViolation) and leaves other errors as they are.
func (s *Store) retryOnForeignKey(err error) error {
	if err != nil && s.d.ForeignKeyViolation != nil && s.d.ForeignKeyViolation(err) {
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	return err
}

// lookupCtx returns the context for a single indexed read. database/sql
// watches a cancelable context with a goroutine per query, which on an
// embedded database costs several times what the lookup itself does
// (about 8µs against 2µs). With Dialect.DetachLookups the read runs
// without ctx's cancellation; a ctx that is already done still fails it
// before it starts. Values of ctx stay visible.
func (s *Store) lookupCtx(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.d.DetachLookups {
		return context.WithoutCancel(ctx), nil
	}
	return ctx, nil
}

// cacheCheck drops the read cache when another process wrote since the
// last check. Lookups call it before consulting the cache.
func (s *Store) cacheCheck(ctx context.Context) {
	if s.cache != nil && s.changed != nil && s.changed(ctx) {
		s.cache.invalidate()
	}
}

// notFound maps sql.ErrNoRows to store.ErrNotFound and leaves other errors
// as they are.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// versioned runs write with args in a transaction and, when it changed a
// row, then (if not nil) and bump, the statement that moves the written
// table's version row: a replica that sees the new version sees the
// change. With no row changed it returns none: store.ErrExists for a
// create-only insert, store.ErrNotFound for an update or delete.
func (s *Store) versioned(ctx context.Context, write, bump query, none error, then func(tx Conn) error, args ...any) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := affected(s.run(ctx, tx, write).ExecContext(ctx, args...))
		if err != nil {
			return err
		}
		if n == 0 {
			return none
		}
		if then != nil {
			if err := then(tx); err != nil {
				return err
			}
		}
		_, err = s.run(ctx, tx, bump).ExecContext(ctx)
		return err
	})
}

// version reads a version row (q), which every replica's writes move.
func (s *Store) version(ctx context.Context, q query) (int64, error) {
	var v int64
	err := s.run(ctx, nil, q).QueryRowContext(ctx).Scan(&v)
	return v, err
}

// affectedOne returns store.ErrNotFound when a statement changed no row.
func affectedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// affected returns how many rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
