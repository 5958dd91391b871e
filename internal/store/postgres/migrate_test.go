package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chainctl/chainctl/internal/store/storetest"
)

// TestSubscriptionHealthMigration opens a database last migrated by a
// release before 0014, with deliveries in it: 0014 fills in each
// subscription's last success and last error from them.
func TestSubscriptionHealthMigration(t *testing.T) {
	dsn := newSchema(t)
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cc)
	defer db.Close()
	storetest.MigrateBefore(t, db, dialect(), migrations, 14, storetest.SubscriptionHealthSeed)
	storetest.CheckSubscriptionHealthSeeded(t, open(t, dsn))
}

// TestEventPacksMigration opens a database last migrated before 0015,
// whose event log gave out seqs 1 to 3 and purged the last: packed events
// take seqs after all three.
func TestEventPacksMigration(t *testing.T) {
	dsn := newSchema(t)
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cc)
	defer db.Close()
	storetest.MigrateBefore(t, db, dialect(), migrations, 15, storetest.EventLogSeed(`convert_to('{}', 'UTF8')`))
	storetest.CheckEventLogSeeded(t, open(t, dsn))
}
