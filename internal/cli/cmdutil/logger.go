package cmdutil

import (
	"io"
	"log/slog"
)

// NewLogger returns the CLI's logger on w: human-readable text when w is a
// terminal, JSON lines otherwise (for log collectors); debug level when debug
// is set, info otherwise.
func NewLogger(w io.Writer, terminal, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if terminal {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
