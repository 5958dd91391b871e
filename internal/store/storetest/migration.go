package storetest

import (
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlstore"
)

// SubscriptionHealthSeed is SQL, valid on both databases at migration
// 0013, that leaves deliveries for migration 0014 to sum up into
// SubscriptionHealthSeeded: sub-x has a success at 100 ns, a newer error
// on a pending delivery (200 ns) and an older one on a failed delivery;
// sub-quiet has no deliveries.
var SubscriptionHealthSeed = []string{
	`INSERT INTO events (id, type, source, subject, time, repository, failed, actor, data) VALUES
('e1', 'dev.chainctl.registry.push.v1', 'https://r', 'acme/app:1', 1, 'acme/app', 0, 'identity:ci', '{}'),
('e2', 'dev.chainctl.registry.push.v1', 'https://r', 'acme/app:2', 2, 'acme/app', 0, 'identity:ci', '{}'),
('e3', 'dev.chainctl.registry.push.v1', 'https://r', 'acme/app:3', 3, 'acme/app', 0, 'identity:ci', '{}')`,
	`INSERT INTO subscriptions (id, sink, types, repositories, description, creator, creator_incarnation, created) VALUES
('sub-x', 'https://sink.example', '[]', '["acme/*"]', '', 'identity:owner', 'i1', 1),
('sub-quiet', 'https://sink.example', '[]', '["acme/*"]', '', 'identity:owner', 'i1', 1)`,
	`INSERT INTO deliveries (subscription_id, event_seq, state, next_attempt, last_error, updated)
SELECT 'sub-x', seq, 1, 0, '', 100 FROM events WHERE id = 'e1'`,
	`INSERT INTO deliveries (subscription_id, event_seq, state, next_attempt, last_error, updated)
SELECT 'sub-x', seq, 0, 300, 'boom', 200 FROM events WHERE id = 'e2'`,
	`INSERT INTO deliveries (subscription_id, event_seq, state, next_attempt, last_error, updated)
SELECT 'sub-x', seq, 2, 0, 'older', 150 FROM events WHERE id = 'e3'`,
}

// SubscriptionHealthSeeded is the health of each subscription of
// SubscriptionHealthSeed after migration 0014, but for the counts.
var SubscriptionHealthSeeded = map[string]store.SubscriptionHealth{
	"sub-x":     {LastSuccess: time.Unix(0, 100).UTC(), LastError: "boom", LastErrorAt: time.Unix(0, 200).UTC()},
	"sub-quiet": {},
}

// MigrateBefore migrates db with the migrations in fsys's "migrations"
// older than version, as an earlier release would have, then runs seed on
// it: what the migration of that version finds.
func MigrateBefore(t *testing.T, db *sql.DB, d *sqlstore.Dialect, fsys fs.FS, version int, seed []string) {
	t.Helper()
	ms, err := sqlstore.LoadMigrations(fsys, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	before := fstest.MapFS{}
	for _, m := range ms {
		if m.Version < version {
			before["migrations/"+m.Name] = &fstest.MapFile{Data: []byte(m.SQL)}
		}
	}
	if err := sqlstore.Migrate(t.Context(), db, d, before, "migrations", nil); err != nil {
		t.Fatalf("migrate to %04d = %v", version-1, err)
	}
	for _, q := range seed {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// CheckSubscriptionHealthSeeded checks s's health of the subscriptions
// SubscriptionHealthSeed left, once migrated past 0014.
func CheckSubscriptionHealthSeeded(t *testing.T, s store.Subscriptions) {
	t.Helper()
	for id, want := range SubscriptionHealthSeeded {
		h, err := s.SubscriptionHealth(t.Context(), id)
		if err != nil || !h.LastSuccess.Equal(want.LastSuccess) || h.LastError != want.LastError || !h.LastErrorAt.Equal(want.LastErrorAt) {
			t.Errorf("SubscriptionHealth(%s) after 0014 = %+v, %v, want %+v", id, h, err, want)
		}
	}
}

// EventLogSeed is three events recorded before migration 0015, the last
// then purged: data is the backend's literal for the bytes "{}".
func EventLogSeed(data string) []string {
	var out []string
	for i := 1; i <= 3; i++ {
		out = append(out, fmt.Sprintf(`INSERT INTO events (id, type, source, subject, time, repository, failed, actor, error_code, data)
VALUES ('seed-%d', '%s', 'https://r', 'acme/app:v1', %d, 'acme/app', 0, 'anonymous', '', %s)`, i, typePull, 1_000_000_000*i, data))
	}
	return append(out, `DELETE FROM events WHERE id = 'seed-3'`)
}

// CheckEventLogSeeded checks that events packed after migration 0015 take
// seqs after every seq the log gave before it, the purged one's too.
func CheckEventLogSeeded(t *testing.T, s store.Events) {
	t.Helper()
	ctx := t.Context()
	at := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	var batch []store.Event
	for i := range 2 {
		batch = append(batch, store.Event{ID: packID(at, i), Type: typePull, Source: "https://r", Subject: "acme/app:v1",
			Time: at, Repository: "acme/app", Actor: "anonymous", Data: []byte(`{}`)})
	}
	if err := s.AppendEvents(ctx, batch); err != nil {
		t.Fatalf("AppendEvents after migrating = %v", err)
	}
	all, err := s.EventsAfter(ctx, 0, 10)
	if err != nil || !slices.Equal(ids(all), []string{"seed-1", "seed-2", batch[0].ID, batch[1].ID}) {
		t.Fatalf("EventsAfter = %q, %v", ids(all), err)
	}
	if all[2].Seq <= 3 || all[3].Seq <= all[2].Seq {
		t.Errorf("seqs after migrating: %d, %d; want above 3, the purged event's, and increasing", all[2].Seq, all[3].Seq)
	}
}
