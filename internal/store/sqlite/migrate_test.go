package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/chainctl/chainctl/internal/store/storetest"
)

// TestSubscriptionHealthMigration opens a database last migrated by a
// release before 0014, with deliveries in it: 0014 fills in each
// subscription's last success and last error from them.
func TestSubscriptionHealthMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	if err := createFile(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	storetest.MigrateBefore(t, db, dialect(), migrations, 14, storetest.SubscriptionHealthSeed)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	storetest.CheckSubscriptionHealthSeeded(t, s)
}

// TestEventPacksMigration opens a database last migrated before 0015,
// whose event log gave out seqs 1 to 3 and purged the last: packed events
// take seqs after all three.
func TestEventPacksMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	if err := createFile(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	storetest.MigrateBefore(t, db, dialect(), migrations, 15, storetest.EventLogSeed(`CAST('{}' AS BLOB)`))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	storetest.CheckEventLogSeeded(t, s)
}
