package eventsink

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
)

// HandlerOption configures NewHandler.
type HandlerOption func(*handler)

// WithRefused calls f for each delivery the handler refuses, with the
// status it answered and why: to log refusals, which a sink's operator
// needs to see and the registry only retries.
func WithRefused(f func(r *http.Request, status int, err error)) HandlerOption {
	return func(h *handler) { h.refused = f }
}

type handler struct {
	v       *Verifier
	deliver func(context.Context, event.Event) error
	refused func(*http.Request, int, error)
}

// NewHandler returns the HTTP handler of a sink: it takes POSTs only
// (405 otherwise), reads at most MaxBody bytes (413 beyond), verifies the
// delivery with v and answers as StatusCode says when it is refused.
// deliver gets each event that verified; the answer is 204 when it
// returns nil and 500 when it fails, so that the registry delivers the
// event again, with a generic text unless the error is from Failed.
// Refusals are answered with a one-line reason in plain
// text, never with the token.
func NewHandler(v *Verifier, deliver func(context.Context, event.Event) error, opts ...HandlerOption) http.Handler {
	h := &handler{v: v, deliver: deliver}
	for _, o := range opts {
		o(h)
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, errors.New("registry events are POSTed here"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, errors.New("body larger than 1 MiB"))
			return
		}
		h.refuse(w, r, http.StatusBadRequest, errors.New("reading the body failed"))
		return
	}
	ev, err := h.v.Verify(r, body)
	if err != nil {
		status := StatusCode(err)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		h.refuse(w, r, status, err)
		return
	}
	if err := h.deliver(r.Context(), ev); err != nil {
		h.refuse(w, r, http.StatusInternalServerError, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// refuse answers status with a short reason, and reports err.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	if h.refused != nil {
		h.refused(r, status, err)
	}
	// The reason is the refusal's own text; what went wrong inside this
	// sink (a fetch, the deliver function) is not the sender's business.
	text := err.Error()
	var rs *reason
	switch {
	case status == http.StatusServiceUnavailable:
		text = ErrUnavailable.Error()
	case status == http.StatusInternalServerError:
		text = "the event could not be handled"
		var f *failure
		if errors.As(err, &f) {
			text = f.reason
		}
	case errors.As(err, &rs):
		text = rs.text
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text+"\n")
}

// Failed is err, returned by a deliver function, with the reason the 500
// answer gives instead of a generic text: the registry records it as the
// delivery's last error, where a subscription's owner sees it. reason
// must be short and name nothing of this machine; err is for its
// operator (WithRefused gets it).
func Failed(reason string, err error) error { return &failure{reason: reason, err: err} }

type failure struct {
	reason string
	err    error
}

func (f *failure) Error() string { return f.reason + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }
