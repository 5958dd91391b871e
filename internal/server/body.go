package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// BodyLimits say how slowly a request body may arrive before the request
// is cut. They bound what a client that stops sending (or sends a byte a
// second) can hold — a connection, a goroutine, an upload's lock — without
// capping the length of honest uploads, which may take hours on slow
// links: only the time the handler spends waiting for bytes counts, so a
// slow storage backend never counts against the client.
type BodyLimits struct {
	// IdleTimeout is the longest one read may wait for the next bytes;
	// zero or less: no limit. It is a read deadline on the connection
	// (http.ResponseController), renewed as bytes arrive.
	IdleTimeout time.Duration
	// MinRate is the lowest average rate, in bytes per second, over each
	// IdleTimeout spent waiting for the body; zero or less: no limit.
	MinRate int64
}

// WithBodyLimits sets how slowly request bodies may arrive (BodyLimits).
// Without it there are no limits; `registry serve` always sets them
// (config.Limits has the defaults).
func WithBodyLimits(l BodyLimits) Option { return func(s *Server) { s.bodyLimits = l } }

// BodyError is a request body that failed on the client's side: it stalled
// or came too slowly (Timeout reports true), or it ended before its
// Content-Length or broke off. Handlers answer it with a 4xx, never a 5xx:
// it is not the server's fault.
type BodyError struct {
	// Reason says what happened, for logs and the client.
	Reason string
	// Err is the read error beneath, if any.
	Err     error
	timeout bool
}

func (e *BodyError) Error() string {
	if e.Err != nil {
		return "request body: " + e.Reason + ": " + e.Err.Error()
	}
	return "request body: " + e.Reason
}

func (e *BodyError) Unwrap() error { return e.Err }

// Timeout reports whether the body was cut for arriving too slowly.
func (e *BodyError) Timeout() bool { return e.timeout }

// ClientFault reports true: the client, or its network, failed the body.
func (e *BodyError) ClientFault() bool { return true }

// requestBody counts the bytes of a request body the handler reads and
// enforces the BodyLimits on them.
type requestBody struct {
	io.ReadCloser
	n      int64
	limits BodyLimits
	rc     *http.ResponseController
	now    func() time.Time

	deadline time.Time     // the read deadline set on the connection
	waited   time.Duration // time spent in Read in the current window
	got      int64         // bytes read in the current window
	err      error         // sticky: once cut, every Read fails
}

func newRequestBody(body io.ReadCloser, w http.ResponseWriter, l BodyLimits) *requestBody {
	b := &requestBody{ReadCloser: body, limits: l, now: time.Now}
	if l.IdleTimeout > 0 {
		b.rc = http.NewResponseController(w)
	}
	return b
}

// deadlineSlack is how stale a read deadline may become before it is
// renewed: renewing on every read would cost a timer update per read.
const deadlineSlack = time.Second

func (b *requestBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	start := b.now()
	if b.rc != nil && b.deadline.Sub(start) < b.limits.IdleTimeout-min(deadlineSlack, b.limits.IdleTimeout/2) {
		b.deadline = start.Add(b.limits.IdleTimeout)
		if err := b.rc.SetReadDeadline(b.deadline); err != nil {
			b.rc = nil // a writer without deadlines (a test recorder): rate only
		}
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		// net/http clears the read deadline itself when the body ends, as
		// it starts reading the connection in the background (to notice a
		// client that leaves) while the handler works.
		return n, err
	}
	if err != nil {
		b.err = classifyBodyError(err, b.limits.IdleTimeout)
		return n, b.err
	}
	if b.limits.MinRate > 0 && b.limits.IdleTimeout > 0 {
		b.waited += b.now().Sub(start)
		b.got += int64(n)
		if b.waited >= b.limits.IdleTimeout {
			if float64(b.got) < float64(b.limits.MinRate)*b.waited.Seconds() {
				b.err = &BodyError{Reason: fmt.Sprintf("%d bytes in %s of waiting, below the minimum of %d bytes/s",
					b.got, b.waited.Round(time.Millisecond), b.limits.MinRate), timeout: true}
				return n, b.err
			}
			b.waited, b.got = 0, 0
		}
	}
	return n, nil
}

// classifyBodyError makes a read error of the body a *BodyError: every
// such error is the client's or its network's (the server only reads).
// http.MaxBytesError is kept as it is, for handlers that answer it 413.
func classifyBodyError(err error, idle time.Duration) error {
	var tooLarge *http.MaxBytesError
	var be *BodyError
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &be):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &BodyError{Reason: fmt.Sprintf("no bytes for %s", idle), Err: err, timeout: true}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &BodyError{Reason: "ended before its Content-Length", Err: err}
	}
	return &BodyError{Reason: "broken off", Err: err}
}
