package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/chainctl/chainctl/internal/store/sqlstore"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

// TestSubscriptionHealthMigration opens a database last migrated by a
// release before 0014, with deliveries in it: 0014 fills in each
// subscription's last success and last error from them.
func TestSubscriptionHealthMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.db")
	if err := createFile(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(ctx, db, dialect(), storetest.MigrationsBefore(ms, 14), "migrations", nil); err != nil {
		t.Fatalf("migrate to 0013 = %v", err)
	}
	for _, q := range storetest.SubscriptionHealthSeed {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	storetest.CheckSubscriptionHealthSeeded(t, s)
}
