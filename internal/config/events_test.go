package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadServeEvents(t *testing.T) {
	tests := []struct {
		name, file string
		want       Events
		wantErr    string
	}{
		{name: "no file", want: Events{Retention: 7 * 24 * time.Hour, RetryFor: 24 * time.Hour}},
		{name: "no section", file: "listen: 127.0.0.1:5000\n", want: Events{Retention: 7 * 24 * time.Hour, RetryFor: 24 * time.Hour}},
		{name: "set", file: "events:\n  retention: 72h\n  blob_pulls: true\n", want: Events{Retention: 72 * time.Hour, BlobPulls: true, RetryFor: 24 * time.Hour}},
		{name: "sinks", file: "events:\n  retry_for: 2h\n  allow_private_sinks: true\n", want: Events{Retention: 7 * 24 * time.Hour, RetryFor: 2 * time.Hour, AllowPrivateSinks: true}},
		{name: "bad retry_for", file: "events:\n  retry_for: 5s\n", wantErr: `events.retry_for "5s"`},
		{name: "beside auth", file: "auth:\n  access_token_ttl: 2m\nevents:\n  blob_pulls: true\n", want: Events{Retention: 7 * 24 * time.Hour, BlobPulls: true, RetryFor: 24 * time.Hour}},
		{name: "not a duration", file: "events:\n  retention: a week\n", wantErr: `events.retention "a week": want a duration`},
		{name: "too short", file: "events:\n  retention: 10m\n", wantErr: `events.retention "10m": want at least 1h`},
		{name: "misspelt", file: "events:\n  retension: 1h\n", wantErr: `unknown key "events.retension" (did you mean "retention"?)`},
		{name: "not a bool", file: "events:\n  blob_pulls: sometimes\n", wantErr: "sometimes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			cfg, err := load(t, args, env{"HOME": "/home/u"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadServe = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadServe = %v", err)
			}
			if cfg.Events != tt.want {
				t.Errorf("Events = %+v, want %+v", cfg.Events, tt.want)
			}
		})
	}
}
