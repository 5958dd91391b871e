package logbuf

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flushing goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int // writes
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func TestWriterBatchesAndFlushes(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour) // no tick during the test
	log := slog.New(Handler(slog.NewJSONHandler(w, nil), w, slog.LevelWarn))
	for i := range 100 {
		log.Info("request", "n", i)
	}
	if out.String() != "" {
		t.Fatalf("info records were written before a flush: %q", out.String())
	}
	log.Warn("something needs attention")
	if got := strings.Count(out.String(), "\n"); got != 101 || out.writes() != 1 {
		t.Fatalf("after a warning: %d lines in %d writes, want 101 in 1", got, out.writes())
	}
	log.Info("last")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "\"msg\":\"last\"}\n") {
		t.Errorf("Close did not flush the last record: %q", out.String()[len(out.String())-40:])
	}
}

func TestWriterFlushesOnTickAndWhenFull(t *testing.T) {
	var out syncBuffer
	w := New(&out, 10*time.Millisecond)
	defer w.Close()
	w.Write([]byte("tick\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "tick\n" {
		t.Fatalf("not flushed by the ticker: %q", out.String())
	}

	var full syncBuffer
	w2 := New(&full, time.Hour)
	line := bytes.Repeat([]byte("x"), 1000)
	line[len(line)-1] = '\n'
	for range 100 { // 100 KB > the buffer
		w2.Write(line)
	}
	if got := len(full.String()); got == 0 || got%1000 != 0 {
		t.Fatalf("a full buffer wrote %d bytes, want whole lines", got)
	}
	w2.Close()
	if got := len(full.String()); got != 100_000 {
		t.Fatalf("after Close %d bytes, want 100000", got)
	}
}
