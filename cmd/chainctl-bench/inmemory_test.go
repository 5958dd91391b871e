package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInMemoryTarget starts the in-memory target as a run does, with the
// crane .ci/tools.sh installs, and runs against it, with tiny sizes,
// every workload that does not say it runs against chainctl only.
func TestInMemoryTarget(t *testing.T) {
	if _, err := findCrane(t.Context()); err != nil {
		if os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	tg, err := options{}.start(t.Context(), targetInMemory, filepath.Join(t.TempDir(), targetInMemory))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.stop)
	if tg.authenticated {
		t.Error("in-memory wants tokens")
	}
	if tg.client.server.metrics != "" {
		t.Errorf("in-memory probed at %s, but only chainctl serves /metrics", tg.client.server.metrics)
	}
	cfg := tinyConfig()
	for _, w := range workloads() {
		if !w.runsAgainst(targetInMemory) {
			continue
		}
		t.Run(w.name, func(t *testing.T) {
			for round := range 2 { // a second round reuses the setup
				out, err := w.run(t.Context(), tg.client, cfg, round)
				if err != nil {
					t.Fatalf("round %d: run = %v%s", round, err, tg.srv.exited())
				}
				if v := out.values[w.name]; !(v > 0) {
					t.Errorf("round %d: %s = %v, want a positive figure", round, w.name, v)
				}
			}
		})
	}
	if rss, err := tg.srv.peakRSS(); err != nil || rss <= 0 {
		t.Errorf("peakRSS = %d, %v; want a size", rss, err)
	}
}
