package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chainctl/chainctl/internal/store/sqlstore"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

// TestSubscriptionHealthMigration opens a database last migrated by a
// release before 0014, with deliveries in it: 0014 fills in each
// subscription's last success and last error from them.
func TestSubscriptionHealthMigration(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cc)
	defer db.Close()
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

	s := open(t, dsn)
	storetest.CheckSubscriptionHealthSeeded(t, s)
}
