package config

import (
	"strings"
	"testing"
	"time"
)

func TestResolveLimits(t *testing.T) {
	def := Limits{BodyIdleTimeout: time.Minute, BodyMinRate: 1024, MaxUploadsPerPrincipal: 256, MaxUploadsPerRepo: 1024}
	tests := []struct {
		name    string
		set     map[string]string
		want    Limits
		wantErr string
	}{
		{name: "defaults", want: def},
		{name: "binary units", set: map[string]string{KeyBodyMinRate: "64KiB", KeyBodyIdleTimeout: "30s"},
			want: Limits{BodyIdleTimeout: 30 * time.Second, BodyMinRate: 64 << 10, MaxUploadsPerPrincipal: 256, MaxUploadsPerRepo: 1024}},
		{name: "plain bytes and MB", set: map[string]string{KeyBodyMinRate: "512"}, want: Limits{BodyIdleTimeout: time.Minute, BodyMinRate: 512, MaxUploadsPerPrincipal: 256, MaxUploadsPerRepo: 1024}},
		{name: "everything off", set: map[string]string{KeyBodyMinRate: "0", KeyBodyIdleTimeout: "0", KeyMaxUploadsPerPrincipal: "0", KeyMaxUploadsPerRepo: "0"}},
		{name: "caps", set: map[string]string{KeyMaxUploadsPerPrincipal: "5", KeyMaxUploadsPerRepo: "9"},
			want: Limits{BodyIdleTimeout: time.Minute, BodyMinRate: 1024, MaxUploadsPerPrincipal: 5, MaxUploadsPerRepo: 9}},
		{name: "rate without idle timeout", set: map[string]string{KeyBodyIdleTimeout: "0"}, wantErr: "body-min-rate needs body-idle-timeout"},
		{name: "idle timeout too short", set: map[string]string{KeyBodyIdleTimeout: "10ms"}, wantErr: "at least 1s"},
		{name: "negative idle timeout", set: map[string]string{KeyBodyIdleTimeout: "-1s"}, wantErr: "want a duration"},
		{name: "unknown unit", set: map[string]string{KeyBodyMinRate: "5 parsecs"}, wantErr: "byte count"},
		{name: "bad unit", set: map[string]string{KeyBodyMinRate: "5TB"}, wantErr: "byte count"},
		{name: "negative cap", set: map[string]string{KeyMaxUploadsPerRepo: "-1"}, wantErr: "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveLimits(func(k string) string { return tt.set[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("resolveLimits() = %+v, %v, want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolveLimits() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}
