package tokencache

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestUsableAt(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const minLife = 5 * time.Minute
	tests := []struct {
		name    string
		e       Entry
		minLife time.Duration
		want    bool
	}{
		{name: "exactly min life left", e: Entry{Kind: KindSession, Token: "t", Expiry: now.Add(minLife)}, minLife: minLife, want: true},
		{name: "just under min life", e: Entry{Kind: KindSession, Token: "t", Expiry: now.Add(minLife - time.Nanosecond)}, minLife: minLife, want: false},
		{name: "plenty left", e: Entry{Kind: KindSession, Token: "t", Expiry: now.Add(time.Hour)}, minLife: minLife, want: true},
		{name: "expired", e: Entry{Kind: KindSession, Token: "t", Expiry: now.Add(-time.Second)}, minLife: minLife, want: false},
		{name: "zero min life at expiry", e: Entry{Kind: KindSession, Token: "t", Expiry: now}, minLife: 0, want: true},
		{name: "negative min life counts as zero", e: Entry{Kind: KindSession, Token: "t", Expiry: now.Add(-time.Nanosecond)}, minLife: -time.Hour, want: false},
		{name: "stored without expiry", e: Entry{Kind: KindStored, Token: "t"}, minLife: minLife, want: true},
		{name: "stored with past expiry", e: Entry{Kind: KindStored, Token: "t", Expiry: now.Add(-time.Hour)}, minLife: minLife, want: false},
		{name: "stored with short expiry", e: Entry{Kind: KindStored, Token: "t", Expiry: now.Add(time.Minute)}, minLife: minLife, want: false},
		{name: "session without expiry", e: Entry{Kind: KindSession, Token: "t"}, minLife: minLife, want: false},
		{name: "empty token", e: Entry{Kind: KindStored}, minLife: minLife, want: false},
		{name: "unknown kind", e: Entry{Kind: "other", Token: "t", Expiry: now.Add(time.Hour)}, minLife: minLife, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.UsableAt(now, tt.minLife); got != tt.want {
				t.Errorf("UsableAt(%v, %v) = %v, want %v", now, tt.minLife, got, tt.want)
			}
		})
	}
}

func TestEntryNeverShowsToken(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	e := Entry{Kind: KindSession, Token: secret, Identity: "id", Username: "_token", Expiry: time.Now()}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cached", "entry", e)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("cached", "entry", e)
	out := fmt.Sprintf("%v %+v %#v %s %q", e, e, e, e, e) + fmt.Sprint(e) + buf.String()
	if strings.Contains(out, secret) {
		t.Errorf("formatted entry shows the token: %s", out)
	}
	if !strings.Contains(out, "REDACTED") || !strings.Contains(out, "token_set") {
		t.Errorf("formatted entry = %s, want redaction markers", out)
	}
}
