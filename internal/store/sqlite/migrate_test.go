package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/chainctl/chainctl/internal/store/storetest"
)

// migratedFrom opens a database last migrated by a release before
// version, with seed's rows in it, as this release opens it.
func migratedFrom(t *testing.T, version int, seed []string) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	if err := createFile(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	storetest.MigrateBefore(t, db, dialect(), migrations, version, seed)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSubscriptionHealthMigration: 0014 fills in each subscription's last
// success and last error from the deliveries it made.
func TestSubscriptionHealthMigration(t *testing.T) {
	storetest.CheckSubscriptionHealthSeeded(t, migratedFrom(t, 14, storetest.SubscriptionHealthSeed))
}

// TestEventPacksMigration: after 0015, packed events take seqs after every
// seq the log gave before it, a purged one's too.
func TestEventPacksMigration(t *testing.T) {
	storetest.CheckEventLogSeeded(t, migratedFrom(t, 15, storetest.EventLogSeed(`CAST('{}' AS BLOB)`)))
}
