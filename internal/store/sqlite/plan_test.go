package sqlite

import (
	"slices"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/store/sqlstore"
)

// packSelect is sqlstore's select of event_packs' columns.
const packSelect = `SELECT seq_first, type, source, repository, failed, actor, error_code, time_first, time_last, events FROM event_packs`

// TestQueryPlans checks that the registry's queries are indexed lookups,
// so their cost does not grow with the number of repositories, manifests
// or tags. SQLite plans without statistics here, as on a fresh database.
func TestQueryPlans(t *testing.T) {
	s, _ := openTemp(t)
	tests := []struct {
		name  string
		query string
		want  []string // substrings of the plan, in any order
	}{
		{name: "resolve tag", query: sqlstore.QResolveTag, want: []string{
			"SEARCH r USING COVERING INDEX sqlite_autoindex_repositories_1 (name=?)",
			"SEARCH t USING PRIMARY KEY (repo_id=? AND name=?)",
		}},
		{name: "get manifest", query: sqlstore.QGetManifest, want: []string{
			"SEARCH m USING INDEX sqlite_autoindex_manifests_1 (repo_id=? AND digest=?)",
		}},
		{name: "blob size", query: sqlstore.QBlobSize, want: []string{
			"SEARCH b USING PRIMARY KEY (repo_id=? AND digest=?)",
		}},
		{name: "blob referenced", query: sqlstore.QBlobReferenced, want: []string{
			"USING COVERING INDEX blob_links_digest (digest=?)",
		}},
		{name: "tags", query: sqlstore.QTags, want: []string{
			"SEARCH t USING PRIMARY KEY (repo_id=? AND name>?)",
		}},
		{name: "referrers", query: sqlstore.QReferrers, want: []string{
			"SEARCH m USING INDEX manifests_subject (repo_id=? AND subject=?)",
		}},
		{name: "referrers by type", query: sqlstore.QReferrersByType, want: []string{
			"SEARCH m USING INDEX manifests_subject (repo_id=? AND subject=?)",
		}},
		{name: "delete a manifest's tags", query: qDeleteManifestTags, want: []string{
			"USING COVERING INDEX tags_digest (repo_id=? AND digest=?)",
		}},
		{name: "expired uploads", query: sqlstore.QExpiredUploads, want: []string{
			"USING INDEX uploads_updated (updated<?)",
		}},
		{name: "event refs since", query: sqlstore.QEventRefsSince, want: []string{
			"SEARCH events USING INDEX events_time (time>?)",
		}},
		{name: "event by id", query: sqlstore.QEventRef, want: []string{
			"SEARCH events USING INDEX sqlite_autoindex_events_1 (id=?)",
		}},
		// The event log's packs, read as scanPacks and the readers write
		// their queries (packread.go, events.go, packwrite.go).
		{name: "packs of a repository, newest first", query: packSelect + ` WHERE seq_first IN (SELECT seq_first FROM event_packs` +
			` WHERE (repository = $1) AND time_last >= $2 ORDER BY time_last DESC, seq_first DESC LIMIT 64) ORDER BY time_last DESC, seq_first DESC`, want: []string{
			"SEARCH event_packs USING COVERING INDEX event_packs_repository (repository=? AND time_last>?)",
		}},
		{name: "packs under a prefix: keys sorted, not rows", query: packSelect + ` WHERE seq_first IN (SELECT seq_first FROM event_packs` +
			` WHERE (repository >= $1 AND repository < $2) ORDER BY time_last DESC, seq_first DESC LIMIT 64) ORDER BY time_last DESC, seq_first DESC`, want: []string{
			"SEARCH event_packs USING COVERING INDEX event_packs_repository (repository>? AND repository<?)",
			"SEARCH event_packs USING INTEGER PRIMARY KEY (rowid=?)",
		}},
		{name: "packs of an actor, next page", query: packSelect + ` WHERE seq_first IN (SELECT seq_first FROM event_packs` +
			` WHERE actor IN ($1) AND (time_last < $2 OR (time_last = $3 AND seq_first < $4)) ORDER BY time_last DESC, seq_first DESC LIMIT 64) ORDER BY time_last DESC, seq_first DESC`, want: []string{
			"USING COVERING INDEX event_packs_actor (actor=?)",
		}},
		{name: "packs since a time", query: packSelect + ` WHERE seq_first IN (SELECT seq_first FROM event_packs` +
			` WHERE time_last > $1 ORDER BY time_last, seq_first LIMIT 64) ORDER BY time_last, seq_first`, want: []string{
			"USING COVERING INDEX event_packs_time (time_last>?)",
		}},
		{name: "packs after a seq", query: packSelect + ` WHERE seq_first IN (SELECT seq_first FROM event_packs` +
			` WHERE seq_first > $1 AND seq_last > $2 ORDER BY seq_first LIMIT 64) ORDER BY seq_first`, want: []string{
			"SEARCH event_packs USING INTEGER PRIMARY KEY (rowid>?)",
		}},
		{name: "packs that may hold a seq", query: packSelect + ` WHERE seq_first <= $1 AND seq_first >= $2 AND seq_last >= $3`, want: []string{
			"SEARCH event_packs USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
		}},
		{name: "packs straddling a purge", query: packSelect + ` WHERE time_first < $1 AND time_last >= $2`, want: []string{
			"SEARCH event_packs USING INDEX event_packs_time (time_last>?)",
		}},
		{name: "list deliveries", query: sqlstore.QListDeliveries, want: []string{
			"SEARCH d USING PRIMARY KEY (subscription_id=? AND event_seq<?)",
			"SEARCH e USING INTEGER PRIMARY KEY (rowid=?)",
		}},
		{name: "pending and failed deliveries counted", query: sqlstore.QDeliveryCounts, want: []string{
			"USING COVERING INDEX deliveries_due (subscription_id=? AND state=?)",
		}},
		{name: "failed deliveries", query: sqlstore.QFailedDeliveries, want: []string{
			"SEARCH d USING COVERING INDEX deliveries_due (subscription_id=? AND state=? AND event_seq>?)",
		}},
		{name: "due deliveries", query: sqlstore.DueDeliveries(dialect().DueIndexHint, ""), want: []string{
			"SEARCH d USING INDEX deliveries_due (subscription_id=? AND state=?)",
		}},
		{name: "count uploads", query: sqlstore.QCountUploads, want: []string{
			"USING COVERING INDEX uploads_owner (owner=?)",
			"USING COVERING INDEX uploads_repository (repository=?)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := make([]any, strings.Count(tt.query, "$"))
			for i := range args {
				args[i] = "x"
			}
			rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, args...)
			if err != nil {
				t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
			}
			got := strings.Join(plan, "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("plan of %s:\n%s\nwant it to contain %q", tt.name, got, w)
				}
			}
			for _, step := range plan {
				if scanned, ok := strings.CutPrefix(step, "SCAN "); ok && !subquery(plan, scanned) && scanned != "CONSTANT ROW" {
					t.Errorf("plan of %s scans a table:\n%s", tt.name, got)
				}
			}
		})
	}
}

// subquery reports whether name is a subquery's rows in plan (a
// co-routine or materialized), whose scan reads no table.
func subquery(plan []string, name string) bool {
	return slices.Contains(plan, "CO-ROUTINE "+name) || slices.Contains(plan, "MATERIALIZE "+name)
}
