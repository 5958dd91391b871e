package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// Error is an error the client sees, rendered as OCI error JSON
// (distribution-spec, "Error Codes"). Anything returned by a handler that is
// not an *Error becomes a 500 UNKNOWN "internal error"; its text is logged,
// never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Detail  any
	// Header is added to the response, e.g. WWW-Authenticate on a 401.
	Header http.Header
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// internalError is what the client sees of an unexpected error: 503 with
// Retry-After when a backend timed out or is temporarily unreachable (the
// client should retry), else 500. Both are 5xx, which clients retry; the
// error's text stays in the log.
func internalError(err error) *Error {
	var timeout interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &timeout) && timeout.Timeout()) {
		e := newError(http.StatusServiceUnavailable, "UNAVAILABLE", "storage backend unavailable; retry", nil)
		e.Header = http.Header{"Retry-After": {"1"}}
		return e
	}
	return newError(http.StatusInternalServerError, "UNKNOWN", "internal error", nil)
}

func newError(status int, code, msg string, detail any) *Error {
	return &Error{Status: status, Code: code, Message: msg, Detail: detail}
}

func errBlobUnknown(dgst string) *Error {
	return newError(http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry", map[string]string{"digest": dgst})
}

func errBlobUploadUnknown(id string) *Error {
	return newError(http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", map[string]string{"session": id})
}

func errDigestInvalid(msg, dgst string) *Error {
	var detail any
	if dgst != "" {
		detail = map[string]string{"digest": dgst}
	}
	return newError(http.StatusBadRequest, "DIGEST_INVALID", msg, detail)
}

func errManifestBlobUnknown(dgst string) *Error {
	var detail any
	if dgst != "" {
		detail = map[string]string{"digest": dgst}
	}
	return newError(http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "manifest references a blob unknown to registry", detail)
}

// errBlobCollected is a 503 the client retries: the blob's bytes were
// being garbage collected while it was pushed, so it must upload them again.
func errBlobCollected(dgst string) *Error {
	e := newError(http.StatusServiceUnavailable, "UNAVAILABLE",
		"blob is being garbage collected; upload it again", map[string]string{"digest": dgst})
	e.Header = http.Header{"Retry-After": {"1"}}
	return e
}

func errManifestInvalid(msg string) *Error {
	return newError(http.StatusBadRequest, "MANIFEST_INVALID", msg, nil)
}

// errDescriptorSize refuses a manifest whose descriptor of a blob or child
// manifest declares a size other than the stored one.
func errDescriptorSize(what string, dgst digest.Digest, declared, stored int64) *Error {
	return newError(http.StatusBadRequest, "MANIFEST_INVALID",
		fmt.Sprintf("descriptor of %s %s declares size %d, but it has %d bytes", what, dgst, declared, stored),
		map[string]any{"digest": string(dgst), "size": declared, "stored_size": stored})
}

func errManifestUnknown(ref string) *Error {
	return newError(http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown to registry", map[string]string{"reference": ref})
}

func errNameInvalid(name, why string) *Error {
	return newError(http.StatusBadRequest, "NAME_INVALID", "invalid repository name: "+why, map[string]string{"name": name})
}

func errNameUnknown(name string) *Error {
	return newError(http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", map[string]string{"name": name})
}

func errTagInvalid(tag string) *Error {
	return newError(http.StatusBadRequest, "TAG_INVALID", "invalid tag or digest reference", map[string]string{"reference": tag})
}

func errSizeInvalid(msg string) *Error {
	return newError(http.StatusBadRequest, "SIZE_INVALID", msg, nil)
}

func errTooLarge(msg string) *Error {
	return newError(http.StatusRequestEntityTooLarge, "SIZE_INVALID", msg, nil)
}

func errRangeInvalid(msg string) *Error {
	return newError(http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", msg, nil)
}

// errTooManyUploads refuses a new upload session past a cap of open ones.
func errTooManyUploads() *Error {
	e := newError(http.StatusTooManyRequests, "TOOMANYREQUESTS",
		"too many uploads open; finish or cancel some (abandoned ones expire after the registry's upload TTL of inactivity)", nil)
	e.Header = http.Header{"Retry-After": {"30"}}
	return e
}

func errUnsupported(msg string) *Error {
	return newError(http.StatusMethodNotAllowed, "UNSUPPORTED", msg, nil)
}

func errNotFound() *Error {
	return newError(http.StatusNotFound, "NOT_FOUND", "no such API endpoint", nil)
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError is the one place errors become responses.
// A failed request body is the client's fault whatever wrapped it (a store
// error, an *Error of a handler that read the body): 400 or 408, logged at
// INFO. Other errors that are not an *Error are ours: logged at ERROR, with
// the request id the server's log handler adds from the context.
func (rg *registry) writeError(w http.ResponseWriter, r *http.Request, rt route, err error) *Error {
	var e *Error
	var cf clientFault
	switch {
	case errors.As(err, &cf) && cf.ClientFault():
		rg.log.InfoContext(r.Context(), "request body failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = bodyFailed(rt, cf)
	case !errors.As(err, &e):
		rg.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		e = internalError(err)
	}
	h := w.Header()
	// Headers set for a success that did not happen must not leak into the
	// error response (an immutable Cache-Control on a 404, say).
	for _, k := range []string{"Content-Length", "Docker-Content-Digest", "ETag", "Cache-Control", "Accept-Ranges", "Content-Range", "Location"} {
		h.Del(k)
	}
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{Code: e.Code, Message: e.Message, Detail: e.Detail}}})
	}
	return e
}
