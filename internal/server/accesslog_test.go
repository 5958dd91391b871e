package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAccessLogMatchesSlog: the lines WithAccessLog writes decode to what
// the logger's JSON handler writes for the same requests, and the logger's
// level still decides which are written.
func TestAccessLogMatchesSlog(t *testing.T) {
	requests := []struct {
		method, path, agent string
		id                  string
	}{
		{"GET", "/v2/", `crane/0.20 "quoted" <html> & é😀 \ ` + "\x01\u2028\xff", "req-1"},
		{"PUT", "/v2/acme/app/manifests/v1", "", ""},
		{"GET", "/healthz", "probe", ""},                         // debug: not at info level
		{"GET", "/v2/panic/manifests/latest", "containerd", "x"}, // a 500: through the logger
	}
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		lines := map[bool][]map[string]any{}
		for _, direct := range []bool{false, true} {
			logs := &syncBuffer{}
			opts := []Option{WithHandler(api()), WithRouteName(routeName),
				WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level})))}
			if direct {
				opts = append(opts, WithAccessLog(logs))
			}
			s, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, rq := range requests {
				r := httptest.NewRequest(rq.method, rq.path, nil)
				r.RemoteAddr = "192.0.2.1:1234"
				r.Header.Set("User-Agent", rq.agent)
				if rq.id != "" {
					r.Header.Set(RequestIDHeader, rq.id)
				}
				s.Handler().ServeHTTP(httptest.NewRecorder(), r)
			}
			for line := range strings.Lines(logs.String()) {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("direct=%v: line %q: %v", direct, line, err)
				}
				if m["msg"] != "request" {
					continue // the panic's own line
				}
				if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
					t.Errorf("direct=%v: time of %s: %v", direct, line, err)
				}
				if d, ok := m["duration"].(float64); !ok || d <= 0 {
					t.Errorf("direct=%v: duration of %s is not nanoseconds", direct, line)
				}
				delete(m, "time")
				delete(m, "duration")
				if id, _ := m["request_id"].(string); id != "" && id != "req-1" && id != "x" {
					m["request_id"] = "generated" // a random id
				}
				lines[direct] = append(lines[direct], m)
			}
		}
		want, got := lines[false], lines[true]
		if wantN := map[slog.Level]int{slog.LevelInfo: 3, slog.LevelDebug: 4}[level]; len(want) != wantN {
			t.Fatalf("level %v: the logger wrote %d access lines, want %d", level, len(want), wantN)
		}
		if len(got) != len(want) {
			t.Fatalf("level %v: %d lines written directly, %d by the logger", level, len(got), len(want))
		}
		for i := range want {
			w, _ := json.Marshal(want[i])
			g, _ := json.Marshal(got[i])
			if string(w) != string(g) {
				t.Errorf("level %v, line %d:\n got %s\nwant %s", level, i, g, w)
			}
		}
	}
}

// BenchmarkAccessLog is one access-log line, through the logger and
// written directly.
func BenchmarkAccessLog(b *testing.B) {
	for _, direct := range []bool{false, true} {
		b.Run(map[bool]string{false: "slog", true: "direct"}[direct], func(b *testing.B) {
			w := &syncBuffer{}
			opts := []Option{WithHandler(api()), WithLogger(slog.New(slog.NewJSONHandler(w, nil)))}
			if direct {
				opts = append(opts, WithAccessLog(w))
			}
			s, err := New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/v2/acme/app/manifests/v1", nil)
			r.Header.Set("User-Agent", "containerd/2.0.0")
			r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "0123456789abcdef"))
			b.ReportAllocs()
			for b.Loop() {
				s.logRequest(r, "manifest", http.StatusOK, 0, 1024, time.Millisecond)
				w.mu.Lock()
				w.b.Reset()
				w.mu.Unlock()
			}
		})
	}
}
