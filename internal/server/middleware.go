package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"time"
)

// RequestIDHeader carries the request id, from the client or generated.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// unknownErrorBody is the OCI error answered for a panic; the cause is logged,
// never sent.
const unknownErrorBody = `{"errors":[{"code":"UNKNOWN","message":"internal error"}]}` + "\n"

// middleware wraps next, outermost first: request id, then access log and
// metrics, then recover, so that a panic is still logged and counted as the
// 500 it becomes.
func (s *Server) middleware(next http.Handler) http.Handler {
	inner := s.recoverer(next) // built once, not per request
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))

		start := time.Now()
		route := s.routeLabel(r)
		rw := &responseWriter{ResponseWriter: w}
		var body *requestBody
		if r.Body != nil && r.Body != http.NoBody {
			body = newRequestBody(r.Body, rw, s.bodyLimits)
			r.Body = body
		}
		s.metrics.inFlight.Inc()
		defer func() {
			// Runs even when a panic is on its way up (http.ErrAbortHandler),
			// so every request is logged and counted.
			s.metrics.inFlight.Dec()
			status := rw.statusCode()
			var in int64
			if body != nil {
				in = body.n
			}
			elapsed := time.Since(start)
			s.metrics.observe(route, r.Method, status, in, rw.bytes, elapsed.Seconds())
			s.logRequest(r, route, status, in, rw.bytes, elapsed)
		}()
		inner.ServeHTTP(rw, r)
	})
}

// recoverer turns a panic into a 500 with an OCI error body and logs the
// panic with its stack. If the response had started, the connection is
// aborted instead, so that the client cannot mistake a truncated body for a
// whole one.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic serving request",
				"panic", fmt.Sprint(v),
				"method", r.Method, "path", r.URL.Path, "stack", string(debug.Stack()))
			rw, ok := w.(*responseWriter)
			if ok && rw.wroteHeader {
				rw.aborted = true
				panic(http.ErrAbortHandler)
			}
			h := w.Header()
			for k := range h {
				if k != RequestIDHeader {
					delete(h, k)
				}
			}
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, unknownErrorBody)
		}()
		next.ServeHTTP(w, r)
	})
}

// validRequestID accepts a client's id only if it is short and plain, so it
// cannot forge log lines or bloat them.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
