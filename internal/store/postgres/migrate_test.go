package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chainctl/chainctl/internal/store/storetest"
)

// migratedFrom opens a fresh schema last migrated by a release before
// version, with seed's rows in it, as this release opens it.
func migratedFrom(t *testing.T, version int, seed []string) *DB {
	t.Helper()
	dsn := newSchema(t)
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cc)
	defer db.Close()
	storetest.MigrateBefore(t, db, dialect(), migrations, version, seed)
	return open(t, dsn)
}

// TestSubscriptionHealthMigration: 0014 fills in each subscription's last
// success and last error from the deliveries it made.
func TestSubscriptionHealthMigration(t *testing.T) {
	storetest.CheckSubscriptionHealthSeeded(t, migratedFrom(t, 14, storetest.SubscriptionHealthSeed))
}

// TestEventPacksMigration: after 0015, packed events take seqs after every
// seq the log gave before it, a purged one's too.
func TestEventPacksMigration(t *testing.T) {
	storetest.CheckEventLogSeeded(t, migratedFrom(t, 15, storetest.EventLogSeed(`convert_to('{}', 'UTF8')`)))
}
