// Package sqlite is the embedded metadata store: store.Store on one SQLite
// file (modernc.org/sqlite, no cgo).
//
// The database runs in WAL mode. Writes go through a pool of exactly one
// connection, so concurrent pushes queue in database/sql instead of
// failing with SQLITE_BUSY; reads go through a separate pool of read-only
// connections, which WAL lets run alongside the writer. Every query is
// prepared once at Open.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	// The "sqlite" database/sql driver.
	_ "modernc.org/sqlite"

	"github.com/chainctl/chainctl/internal/store"
)

var _ store.Store = (*Store)(nil)

// busyTimeout is how long a connection waits for a lock held by another
// process (or a WAL checkpoint) before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Option configures Open.
type Option func(*options)

type options struct {
	logger *slog.Logger
}

// WithLogger sets the logger for migrations and maintenance messages. The
// default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Store is a store.Store backed by a SQLite database file. It is safe for
// concurrent use, also by several processes on one file.
type Store struct {
	log *slog.Logger
	w   *sql.DB // one connection: every write
	r   *sql.DB // read-only connections: every read
	q   *statements
	// cache answers pull-path lookups without a query; writes clear it,
	// and so does ext when another process (registry gc) wrote.
	cache *readCache
	ext   *externalWrites
}

// Open opens the database at path, creating it (mode 0600, and its
// directory, mode 0700, when missing), and applies pending migrations in
// one transaction. Reopening an up-to-date database changes nothing. Open
// fails if the database was migrated by a newer chainctl.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	s := &Store{log: o.logger, cache: newReadCache()}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	// The writer opens first: it turns WAL on and migrates before any
	// reader connects.
	if s.w, err = sql.Open("sqlite", dsn(abs, false)); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, s.w, s.log); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	if s.r, err = sql.Open("sqlite", dsn(abs, true)); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)

	if s.q, err = prepare(ctx, s.r, s.w); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if s.ext, err = newExternalWrites(ctx, s.r); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	ok = true
	return s, nil
}

// createFile makes the database's directory (0700) and file (0600) if they
// are missing, so SQLite never creates them with the process umask. SQLite
// gives the -wal and -shm files the database file's mode.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// dsn returns a SQLite URI for path whose parameters the driver applies to
// every connection it opens, so pooled connections never miss a pragma.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode NORMAL is durable against application crashes; a power
	// loss may roll back the last transactions but never corrupts.
	q.Add("_pragma", "synchronous(NORMAL)")
	// Freed space in a page is zeroed, so that a row rewritten (a signing
	// key sealed in place of its clear form) leaves no old bytes behind
	// in the file; FAST costs no extra I/O.
	q.Add("_pragma", "secure_delete(FAST)")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		// Take the write lock at BEGIN: a deferred transaction that reads
		// first and then writes can fail with SQLITE_BUSY at once when
		// another process wrote in between, whatever busy_timeout says.
		q.Set("_txlock", "immediate")
	}
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()
}

// Ping implements store.Store. It checks both connection pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite reader: %w", err)
	}
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite writer: %w", err)
	}
	return nil
}

// Close implements store.Store. It releases the prepared statements and
// both pools; the Store is unusable afterwards.
func (s *Store) Close() error {
	var errs []error
	if s.q != nil {
		errs = append(errs, s.q.close())
	}
	if s.ext != nil {
		errs = append(errs, s.ext.close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// write runs fn in one write transaction on the single writer connection
// and commits it, or rolls it back when fn fails.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.WarnContext(ctx, "rollback failed", "err", rerr)
		}
		if errors.Is(err, store.ErrBlobUnknown) || errors.Is(err, store.ErrBlobDeleted) {
			// Garbage collection in another process removed what the
			// cache may still hold; the client will retry.
			s.cache.invalidate()
		}
		return err
	}
	// Invalidate even when Commit fails: whether it took effect is unknown.
	defer s.cache.invalidate()
	return tx.Commit()
}

// lookupCtx returns the context for a single indexed read. database/sql
// watches a cancelable context with a goroutine per query, which costs
// several times what the lookup itself does (about 8µs against 2µs). A
// lookup takes microseconds and WAL readers never wait for the writer, so
// the read runs without ctx's cancellation; a ctx that is already done
// still fails it before it starts. Values of ctx stay visible.
func lookupCtx(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// notFound maps sql.ErrNoRows to store.ErrNotFound and leaves other errors
// as they are.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
