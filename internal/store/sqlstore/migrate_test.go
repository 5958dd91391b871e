package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README":     {Data: []byte("not a migration")},
	}
	ms, err := LoadMigrations(fsys, "m")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "0002_b.sql" || ms[1].SQL != "B" {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, bad := range map[string]fstest.MapFS{
		"no number":   {"m/x_a.sql": {}},
		"duplicate":   {"m/0001_a.sql": {}, "m/01_b.sql": {}},
		"none at all": {"m/README": {}},
	} {
		_, err := LoadMigrations(bad, "m")
		if err == nil {
			t.Errorf("%s: Load = nil error", name)
		} else if !strings.Contains(err.Error(), ".sql") && !strings.Contains(err.Error(), "no migrations") {
			t.Errorf("%s: unhelpful error %v", name, err)
		}
	}
}
