package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
	"github.com/chainctl/chainctl/internal/store/sqlstore"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

// newSchema is pgtest.Schema: a fresh schema, and a DSN that uses it.
func newSchema(t *testing.T) string { return pgtest.Schema(t) }

// adminExec is pgtest.Exec on the test server.
func adminExec(t *testing.T, sql ...string) { pgtest.Exec(t, sql...) }

// open opens a store on dsn and closes it when the test ends.
func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	adminExec(t) // skip once, not in every subtest, when there is no server
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, newSchema(t))
	})
}

// TestMigrationsMatchSQLite keeps the two backends' schemas in step: the
// same versions, under the same names.
func TestMigrationsMatchSQLite(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "sqlite", "migrations"))
	if err != nil {
		t.Fatalf("read the SQLite migrations: %v", err)
	}
	var want []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			want = append(want, e.Name())
		}
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatalf("LoadMigrations = %v", err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("PostgreSQL migrations = %q, SQLite migrations = %q, want the same", got, want)
	}
}

func countMigrations(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.db.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count schema_migrations: %v", err)
	}
	return n
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatalf("LoadMigrations = %v", err)
	}
	m := &store.Manifest{Repository: "app", Digest: digest.FromString("m"), MediaType: "x", Content: []byte("m"), Size: 1}
	for i := range 3 {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open #%d = %v", i, err)
		}
		if i == 0 {
			if _, err := db.PutManifest(ctx, m, "latest"); err != nil {
				t.Fatalf("PutManifest() = %v", err)
			}
		}
		if got, err := db.ResolveTag(ctx, "app", "latest"); err != nil || got != m.Digest {
			t.Errorf("Open #%d: ResolveTag(latest) = %q, %v, want %q, nil", i, got, err, m.Digest)
		}
		if n := countMigrations(t, db); n != len(ms) {
			t.Errorf("Open #%d: %d rows in schema_migrations, want %d", i, n, len(ms))
		}
		db.Close()
	}
}

// TestConcurrentOpen starts replicas at once on an empty schema: the
// advisory lock lets one migrate while the others wait, then find nothing
// to do.
func TestConcurrentOpen(t *testing.T) {
	dsn := newSchema(t)
	const replicas = 8
	dbs := make([]*DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Errorf("Open #%d = %v", i, errs[i])
			continue
		}
		defer db.Close()
	}
	if t.Failed() {
		return
	}
	ms, _ := sqlstore.LoadMigrations(migrations, "migrations")
	if n := countMigrations(t, dbs[0]); n != len(ms) {
		t.Errorf("%d rows in schema_migrations, want %d", n, len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)
	db := open(t, dsn)
	if _, err := db.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (999999, 'future.sql', 0)`); err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	if db2, err := Open(ctx, dsn); err == nil {
		db2.Close()
		t.Errorf("Open() of a database from a newer chainctl = nil, want an error")
	}
}

// TestPutManifestAtomic makes the tag write fail after the manifest write
// and checks that neither is visible.
func TestPutManifestAtomic(t *testing.T) {
	ctx := t.Context()
	db := open(t, newSchema(t))
	old := &store.Manifest{Repository: "app", Digest: digest.FromString("old"), MediaType: "x", Content: []byte("old"), Size: 3}
	if _, err := db.PutManifest(ctx, old, "latest"); err != nil {
		t.Fatalf("PutManifest(old) = %v", err)
	}
	for _, sql := range []string{
		`CREATE FUNCTION fail_tag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
		`CREATE TRIGGER fail_tag BEFORE UPDATE ON tags FOR EACH ROW EXECUTE FUNCTION fail_tag()`,
	} {
		if _, err := db.db.ExecContext(ctx, sql); err != nil {
			t.Fatalf("create trigger: %v", err)
		}
	}
	m := &store.Manifest{Repository: "app", Digest: digest.FromString("new"), MediaType: "x", Content: []byte("new"), Size: 3}
	if _, err := db.PutManifest(ctx, m, "latest"); err == nil {
		t.Fatalf("PutManifest with a failing tag write = nil, want an error")
	}
	if _, err := db.GetManifest(ctx, "app", m.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetManifest after failed PutManifest = %v, want ErrNotFound", err)
	}
	if got, err := db.ResolveTag(ctx, "app", "latest"); err != nil || got != old.Digest {
		t.Errorf("ResolveTag(latest) after failed PutManifest = %q, %v, want %q, nil", got, err, old.Digest)
	}
	if _, err := db.PutManifest(ctx, m, "other"); err != nil {
		t.Errorf("PutManifest after a failed one = %v, want nil", err)
	}
}

// TestOpenHidesPassword checks that neither Open's error nor its log
// shows the DSN's password. It needs no server.
func TestOpenHidesPassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	tests := []struct {
		name string
		dsn  string
	}{
		{name: "unparsable URL", dsn: "postgres://app:" + secret + "@127.0.0.1:notaport/db"},
		{name: "bad parameter", dsn: "postgres://app:" + secret + "@127.0.0.1/db?sslmode=sometimes"},
		{name: "keyword form", dsn: "host=127.0.0.1 password=" + secret + " sslmode=sometimes"},
		{name: "unreachable", dsn: "postgres://app:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			db, err := Open(t.Context(), tt.dsn, WithLogger(log))
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) = nil error, want one", tt.name)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Open() error shows the password: %v", err)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("Open() logged the password: %s", logs.String())
			}
		})
	}
}

// TestUpgradeForGC applies migration 0004 to a database that has data.
func TestUpgradeForGC(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{qCreateMigrationsTable}
	for _, m := range ms {
		if m.Version < 4 {
			stmts = append(stmts, m.SQL, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, '%s', 0)`, m.Version, m.Name))
		}
	}
	// SQLite's char(10) is PostgreSQL's chr(10).
	for _, q := range storetest.UpgradeData() {
		stmts = append(stmts, strings.ReplaceAll(q, "char(10)", "chr(10)"))
	}
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)
	migrated := time.Now()
	db := open(t, dsn)
	storetest.CheckUpgrade(t, db, migrated)
}

// TestLaxTx: the dialect's LaxTx begins, in one statement, a transaction
// at the isolation of every other write whose commit does not wait for the
// disk; and a transaction begun the usual way still waits.
func TestLaxTx(t *testing.T) {
	db := open(t, newSchema(t))
	for _, tc := range []struct{ begin, want string }{
		{dialect().LaxTx, "off"},
		{dialect().ManualTx, "on"},
	} {
		c, err := db.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(t.Context(), tc.begin); err != nil {
			t.Fatalf("%q: %v", tc.begin, err)
		}
		var sync, iso string
		if err := c.QueryRowContext(t.Context(), "SELECT current_setting('synchronous_commit'), current_setting('transaction_isolation')").Scan(&sync, &iso); err != nil {
			t.Fatal(err)
		}
		if sync != tc.want || iso != "read committed" {
			t.Errorf("after %q: synchronous_commit %s, isolation %s; want %s, read committed", tc.begin, sync, iso, tc.want)
		}
		if _, err := c.ExecContext(t.Context(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}
