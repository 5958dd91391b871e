package config

import (
	"strings"
	"testing"
	"time"
)

func TestResolveBlobsScrub(t *testing.T) {
	file := Storage{Type: StorageFile, Path: "/srv/blobs"}
	tests := []struct {
		name        string
		set         map[string]string
		rate        int64
		interval    time.Duration
		wantErr     string
		wantErrAlso string
	}{
		{name: "defaults", rate: 8 << 20, interval: 24 * time.Hour},
		{name: "set", set: map[string]string{KeyScrubRate: "64MiB", KeyScrubInterval: "6h"}, rate: 64 << 20, interval: 6 * time.Hour},
		{name: "off", set: map[string]string{KeyScrubRate: "0"}, rate: 0, interval: 24 * time.Hour},
		{name: "bad", set: map[string]string{KeyScrubRate: "fast", KeyScrubInterval: "30s"},
			wantErr: `scrub-rate "fast"`, wantErrAlso: "scrub-interval 30s: at least 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := resolveBlobs(func(k string) string { return tt.set[k] }, file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.wantErrAlso) {
					t.Fatalf("resolveBlobs = %v, want errors containing %q and %q", err, tt.wantErr, tt.wantErrAlso)
				}
				return
			}
			if err != nil || b.ScrubRate != tt.rate || b.ScrubInterval != tt.interval {
				t.Errorf("resolveBlobs = rate %d, interval %s, %v; want %d, %s", b.ScrubRate, b.ScrubInterval, err, tt.rate, tt.interval)
			}
		})
	}
}
