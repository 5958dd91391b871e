package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/chainctl/chainctl/internal/jsonenc"
)

// WithAccessLog has the server write its access log's lines below warning
// level as JSON lines straight to w, in the form slog's JSON handler gives
// them, instead of through the logger: slog's handling of a line (a
// record, its attributes, the request id added to a copy, reflection on
// each value) was a tenth of the CPU of a manifest GET. w must be where
// the logger's handler writes JSON lines, and the logger must carry no
// attributes or groups of its own, which such a line would lack. The
// logger still decides which lines are written (its level), and lines at
// warning level and above (a 5xx) still go through it, to be flushed at
// once.
func WithAccessLog(w io.Writer) Option { return func(s *Server) { s.accessLog = w } }

// logRequest writes req's access-log line.
func (s *Server) logRequest(r *http.Request, route string, status int, in, out int64, d time.Duration) {
	level := slog.LevelInfo
	switch {
	case route == routeHealthz || route == routeReadyz || route == routeMetrics:
		level = slog.LevelDebug // probes and scrapes would drown the log
	case status >= 500:
		level = slog.LevelError
	}
	ctx := r.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	// Never the Authorization header, cookies or the query string (which
	// may carry tokens in later flows): only what identifies the request.
	// The request_id comes from the context, through LogHandler.
	if s.accessLog == nil || level >= slog.LevelWarn {
		s.log.LogAttrs(ctx, level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes_in", in),
			slog.Int64("bytes_out", out),
			slog.Duration("duration", d),
			slog.String("remote_addr", r.RemoteAddr),
			slog.String("user_agent", r.UserAgent()),
		)
		return
	}
	line, _ := s.lines.Get().(*[]byte)
	if line == nil {
		line = new([]byte)
	}
	b := appendAccessLine((*line)[:0], ctx, time.Now(), level, r, route, status, in, out, d)
	_, _ = s.accessLog.Write(b) // as slog does, a failed write is not the request's failure
	*line = b
	s.lines.Put(line)
}

// appendAccessLine appends the JSON line slog's JSON handler writes for
// logRequest's record, with LogHandler's request_id last.
func appendAccessLine(b []byte, ctx context.Context, t time.Time, level slog.Level, r *http.Request, route string, status int, in, out int64, d time.Duration) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = jsonenc.AppendString(b, level.String())
	b = append(b, `,"msg":"request","method":`...)
	b = jsonenc.AppendString(b, r.Method)
	b = append(b, `,"path":`...)
	b = jsonenc.AppendString(b, r.URL.Path)
	b = append(b, `,"route":`...)
	b = jsonenc.AppendString(b, route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendInt(b, in, 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendInt(b, out, 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, `,"remote_addr":`...)
	b = jsonenc.AppendString(b, r.RemoteAddr)
	b = append(b, `,"user_agent":`...)
	b = jsonenc.AppendString(b, r.UserAgent())
	if id := RequestID(ctx); id != "" {
		b = append(b, `,"request_id":`...)
		b = jsonenc.AppendString(b, id)
	}
	return append(b, "}\n"...)
}
