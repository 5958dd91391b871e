package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlstore"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s, path
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.db")
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatalf("LoadMigrations = %v", err)
	}
	m := &store.Manifest{Repository: "app", Digest: digest.FromString("m"), MediaType: "x", Content: []byte("m"), Size: 1}

	for i := range 3 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d = %v", i, err)
		}
		if i == 0 {
			if _, err := s.PutManifest(ctx, m, "latest"); err != nil {
				t.Fatalf("PutManifest() = %v", err)
			}
		}
		if got, err := s.ResolveTag(ctx, "app", "latest"); err != nil || got != m.Digest {
			t.Errorf("Open #%d: ResolveTag(latest) = %q, %v, want %q, nil", i, got, err, m.Digest)
		}
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatalf("count schema_migrations: %v", err)
		}
		if n != len(ms) {
			t.Errorf("Open #%d: %d rows in schema_migrations, want %d", i, n, len(ms))
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i, err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (999999, 'future.sql', 0)`); err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	if s2, err := Open(ctx, path); err == nil {
		s2.Close()
		t.Errorf("Open() of a database from a newer chainctl = nil, want an error")
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "registry.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	defer s.Close()
	// Write so that the -wal and -shm files exist.
	if err := s.LinkBlob(t.Context(), "app", digest.FromString("b"), 1); err != nil {
		t.Fatalf("LinkBlob() = %v", err)
	}

	tests := []struct {
		name string
		path string
		want os.FileMode
	}{
		{name: "directory", path: dir, want: 0o700},
		{name: "database", path: path, want: 0o600},
		{name: "wal", path: path + "-wal", want: 0o600},
		{name: "shm", path: path + "-shm", want: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Fatalf("Stat(%s) = %v", tt.path, err)
			}
			if got := fi.Mode().Perm(); got != tt.want {
				t.Errorf("mode of %s = %o, want %o", tt.path, got, tt.want)
			}
		})
	}
}

// TestPragmas checks that every connection of both pools is configured,
// not only the first.
func TestPragmas(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	tests := []struct {
		name   string
		pragma string
		want   string
	}{
		{name: "WAL", pragma: "journal_mode", want: "wal"},
		{name: "foreign keys", pragma: "foreign_keys", want: "1"},
		{name: "synchronous NORMAL", pragma: "synchronous", want: "1"},
		{name: "checkpoint every 4000 pages", pragma: "wal_autocheckpoint", want: "4000"},
		{name: "log truncated when it starts over", pragma: "journal_size_limit", want: "0"},
		{name: "busy timeout", pragma: "busy_timeout", want: "10000"},
	}
	for _, pool := range []struct {
		name string
		db   *sql.DB
	}{{"writer", s.w}, {"reader", s.r}} {
		// Hold several connections at once so the pool must open new ones.
		var conns []*sql.Conn
		for range 3 {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s: Conn() = %v", pool.name, err)
			}
			conns = append(conns, c)
			if pool.name == "writer" {
				break // one connection only
			}
		}
		for i, c := range conns {
			for _, tt := range tests {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
					t.Fatalf("%s conn %d: PRAGMA %s: %v", pool.name, i, tt.pragma, err)
				}
				if got != tt.want {
					t.Errorf("%s conn %d: PRAGMA %s = %q, want %q", pool.name, i, tt.pragma, got, tt.want)
				}
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}

	if _, err := s.r.ExecContext(ctx, `DELETE FROM uploads`); err == nil {
		t.Errorf("a write through the reader pool succeeded, want the connection to be read-only")
	}
}

// TestPutManifestAtomic makes the tag write fail after the manifest write
// and checks that neither is visible.
func TestPutManifestAtomic(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	old := &store.Manifest{Repository: "app", Digest: digest.FromString("old"), MediaType: "x", Content: []byte("old"), Size: 3}
	if _, err := s.PutManifest(ctx, old, "latest"); err != nil {
		t.Fatalf("PutManifest(old) = %v", err)
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TRIGGER fail_tag BEFORE UPDATE ON tags
BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}

	m := &store.Manifest{Repository: "app", Digest: digest.FromString("new"), MediaType: "x", Content: []byte("new"), Size: 3}
	if _, err := s.PutManifest(ctx, m, "latest"); err == nil {
		t.Fatalf("PutManifest with a failing tag write = nil, want an error")
	}
	if _, err := s.GetManifest(ctx, "app", m.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetManifest after failed PutManifest = %v, want ErrNotFound", err)
	}
	if got, err := s.ResolveTag(ctx, "app", "latest"); err != nil || got != old.Digest {
		t.Errorf("ResolveTag(latest) after failed PutManifest = %q, %v, want %q, nil", got, err, old.Digest)
	}
	// The writer is usable afterwards.
	if _, err := s.PutManifest(ctx, m, "other"); err != nil {
		t.Errorf("PutManifest after a failed one = %v, want nil", err)
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(notDB, []byte("this is not a SQLite database, not at all, no"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{name: "empty path", path: ""},
		{name: "directory under a file", path: filepath.Join(file, "registry.db")},
		{name: "not a database", path: notDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.path)
			if err == nil {
				s.Close()
				t.Errorf("Open(%q) = nil error, want one", tt.path)
			}
		})
	}
}

// TestOpenUnusualPath checks that the path reaches SQLite unmangled by the
// URI it travels in.
func TestOpenUnusualPath(t *testing.T) {
	name := "my data?x=1#frag%20"
	if runtime.GOOS == "windows" {
		name = "my data#frag%20" // '?' is not allowed in Windows names
	}
	dir := filepath.Join(t.TempDir(), name)
	path := filepath.Join(dir, "registry.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	if err := s.LinkBlob(t.Context(), "app", digest.FromString("b"), 1); err != nil {
		t.Errorf("LinkBlob() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir(%q) = %v", dir, err)
	}
	for _, e := range entries {
		if e.Name() != "registry.db" && e.Name() != "registry.db-wal" && e.Name() != "registry.db-shm" {
			t.Errorf("unexpected file %q next to the database", e.Name())
		}
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen %q = %v", path, err)
	}
	defer s.Close()
	if size, err := s.BlobSize(t.Context(), "app", digest.FromString("b")); err != nil || size != 1 {
		t.Errorf("BlobSize() after reopen = %d, %v, want 1, nil", size, err)
	}
}

// TestUpgradeForGC applies migration 0004 to a database that has data.
func TestUpgradeForGC(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.db")
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= 4 {
			continue
		}
		if _, err := db.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("apply %s: %v", m.Name, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range storetest.UpgradeData() {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	migrated := time.Now()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	storetest.CheckUpgrade(t, s, migrated)
}
