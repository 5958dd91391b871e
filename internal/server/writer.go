package server

import (
	"io"
	"net/http"
)

// responseWriter records the status and body size of a response. It keeps
// the fast paths of the writer it wraps: ReadFrom passes through (so
// http.ServeContent of a file can use sendfile), Flush passes through, and
// Unwrap lets http.ResponseController reach the rest (deadlines, hijack).
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	aborted     bool
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		// 1xx informational headers (such as 103 Early Hints) may precede
		// the real status.
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom implements io.ReaderFrom.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		// Hide our own ReadFrom from io.Copy, which would recurse.
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode returns the status sent, 200 if the handler wrote nothing (as
// net/http does), or 499 — nginx's "client closed request" — for an aborted
// response.
func (w *responseWriter) statusCode() int {
	switch {
	case w.aborted:
		return 499
	case !w.wroteHeader:
		return http.StatusOK
	}
	return w.status
}

type writerOnly struct{ io.Writer }
