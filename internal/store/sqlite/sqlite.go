// Package sqlite is the embedded metadata store: store.Store on one SQLite
// file (modernc.org/sqlite, no cgo).
//
// The database runs in WAL mode. Writes go through a pool of exactly one
// connection, so concurrent pushes queue in database/sql instead of
// failing with SQLITE_BUSY; reads go through a separate pool of read-only
// connections, which WAL lets run alongside the writer. Every query is
// prepared once at Open. The store itself is package sqlstore's; this
// package opens the file and supplies SQLite's dialect: the single writer
// orders every write, so nothing is locked or retried, and lookups on the
// pull path are cached in the process.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	// The "sqlite" database/sql driver, and its error codes.
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlstore"
)

var _ store.Store = (*Store)(nil)

// migrations are the schema changes, applied in the order of their
// numeric prefix (0001_init.sql, 0002_...). A released file never changes;
// a change to the schema is a new file, with a twin of the same version in
// the PostgreSQL backend.
//
//go:embed migrations/*.sql
var migrations embed.FS

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    applied INTEGER NOT NULL
)`

// qDeleteManifestTags deletes a manifest's tags. Without statistics SQLite
// would delete by scanning all of the repository's tags; the subquery
// makes it use tags_digest.
const qDeleteManifestTags = `DELETE FROM tags
WHERE repo_id = $1 AND name IN (SELECT name FROM tags WHERE repo_id = $1 AND digest = $2)`

// dialect is SQLite's: one writer connection whose transactions begin
// IMMEDIATE (see dsn) orders every write, so there are no row locks and
// nothing to retry; lookups are cached and run detached from
// cancellation.
func dialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:                  "sqlite",
		Prepare:               true,
		DetachLookups:         true,
		Cache:                 true,
		DeleteManifestTags:    qDeleteManifestTags,
		CreateMigrationsTable: createMigrationsTable,
		Scrub:                 checkpoint,
		UniqueViolation:       uniqueViolation,
		NumberedParam:         func(int) string { return "?" },
		InsertAll:             "INSERT OR ROLLBACK",
		DueIndexHint:          " INDEXED BY deliveries_due",
		AllocSeqs:             allocSeqs,
	}
}

// allocSeqs takes n seqs from the events table's AUTOINCREMENT counter
// (migration 0015 made sure of its row), in one statement: the single
// writer makes the block contiguous.
func allocSeqs(ctx context.Context, tx sqlstore.Conn, n int) ([]int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx, `UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'events' RETURNING seq`, n).Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("allocate %d event seqs: %w", n, err)
	}
	seqs := make([]int64, n)
	for i := range seqs {
		seqs[i] = last - int64(n-1-i)
	}
	return seqs, nil
}

// uniqueViolation reports whether err is SQLite refusing a duplicate key.
func uniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// checkpoint empties the write-ahead log after a signing key was
// re-wrapped: the old form is still in the log, or in the database's page
// until a checkpoint rewrites it, so that neither file keeps it. Rare
// (sealing, KEK rotation), so the cost does not matter; readers in the way
// only delay it.
func checkpoint(ctx context.Context, w *sql.DB) error {
	_, err := w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// busyTimeout is how long a connection waits for a lock held by another
// process (or a WAL checkpoint) before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Option configures Open.
type Option = sqlstore.Option

// WithLogger sets the logger for migrations and maintenance messages. The
// default discards them.
func WithLogger(l *slog.Logger) Option { return sqlstore.WithLogger(l) }

// Store is a store.Store backed by a SQLite database file. It is safe for
// concurrent use, also by several processes on one file.
type Store struct {
	*sqlstore.Store
	w *sql.DB // one connection: every write
	r *sql.DB // read-only connections: every read
	// ext tells the store's read cache when another process (registry
	// gc) wrote.
	ext *externalWrites
}

// Open opens the database at path, creating it (mode 0600, and its
// directory, mode 0700, when missing), and applies pending migrations in
// one transaction. Reopening an up-to-date database changes nothing. Open
// fails if the database was migrated by a newer chainctl.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := sqlstore.ApplyOptions(opts)
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

	s := &Store{}
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
	if err := sqlstore.Migrate(ctx, s.w, dialect(), migrations, "migrations", o.Logger); err != nil {
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

	if s.ext, err = newExternalWrites(ctx, s.r); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if s.Store, err = sqlstore.New(ctx, sqlstore.Config{
		Dialect: dialect(), Reader: s.r, Writer: s.w, Logger: o.Logger, Changed: s.ext.changed,
	}); err != nil {
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
	// Checkpoint every 4000 pages (16 MiB of WAL) rather than 1000: the
	// event log appends all the time, and a page the appends touch again
	// (an index's last leaf, its parents) is copied into the database
	// once per checkpoint, not once per commit. It cut the cost of
	// recording a pull by a tenth.
	q.Add("_pragma", "wal_autocheckpoint(4000)")
	// Truncate the write-ahead log when a checkpoint lets it start over,
	// rather than write over the old one. A frame (24 bytes of header and
	// a 4 KiB page) straddles two pages of the file, so writing over a
	// log the kernel has evicted from its cache reads each page back from
	// disk first: small-image pushes ran at 87-92 images/s instead of
	// 148-166 once the cache had been dropped (make bench -rounds 3).
	// Appending to a truncated log reads nothing.
	q.Add("_pragma", "journal_size_limit(0)")
	// Statement journals (an insert that names its rowid, such as an event
	// given its seq, keeps one, since its check of the rowid can abort the
	// statement alone) in memory rather than in a temporary file, whose
	// writes were a third of the cost of such an insert.
	q.Add("_pragma", "temp_store(MEMORY)")
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

// Close implements store.Store. It releases the prepared statements and
// both pools; the Store is unusable afterwards.
func (s *Store) Close() error {
	var errs []error
	if s.ext != nil {
		if err := s.ext.close(); err != nil {
			errs = append(errs, fmt.Errorf("close sqlite: %w", err))
		}
	}
	if s.Store != nil {
		return errors.Join(append(errs, s.Store.Close())...)
	}
	// Open failed before the store was made.
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			if err := db.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close sqlite: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}
