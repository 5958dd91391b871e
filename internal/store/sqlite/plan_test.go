package sqlite

import (
	"slices"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/store/sqlstore"
)

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
