package apiv1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBody bounds a request body: an identity with its key set, or one
// token.
const maxBody = 64 << 10

// Error codes.
const (
	codeUnauthorized = "unauthorized"
	codeForbidden    = "forbidden"
	codeNotFound     = "not_found"
	codeInvalid      = "invalid"
	codeConflict     = "conflict"
)

// Error is an answer other than success, from the API itself (a body that
// does not decode, an unknown endpoint).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// decodeJSON reads a JSON request body of at most maxBody bytes into dst,
// refusing other content types, unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, codeInvalid, "Content-Type must be application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, codeInvalid, "the body is larger than %d KiB", maxBody>>10)
	case err != nil:
		return errorf(http.StatusBadRequest, codeInvalid, "the body is not valid: %v", err)
	}
	return nil
}

// writeJSON answers v with status; management answers are never cached.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// collection is one resource's operations, as serveCollection routes
// them: list and create on the collection, get and delete on one of its
// items, and actions under an item ({id}/{name}). create and actions
// decode their own bodies.
type collection struct {
	list    func() (any, error)
	create  func() (any, error)
	get     func(id string) (any, error)
	remove  func(id string) error
	actions map[string]action
}

// action is an operation on one item of a collection: its method and
// what answers it (200).
type action struct {
	method string
	do     func(id string) (any, error)
}

// serveCollection serves a resource under its prefix (rest is what
// follows it): GET and POST (201) on "", GET and DELETE (204) on an id,
// an action on {id}/{name}; anything else is not found.
func serveCollection(w http.ResponseWriter, r *http.Request, rest string, c collection) error {
	if id, name, ok := strings.Cut(rest, "/"); ok && id != "" {
		a, found := c.actions[name]
		switch {
		case !found:
			return notFound(r)
		case r.Method != a.method:
			return methodNotAllowed(w, a.method)
		}
		v, err := a.do(id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
	switch {
	case rest == "":
		switch r.Method {
		case http.MethodGet:
			v, err := c.list()
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, v)
		case http.MethodPost:
			v, err := c.create()
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusCreated, v)
		}
		return methodNotAllowed(w, "GET, POST")
	case strings.Contains(rest, "/"):
		return notFound(r)
	}
	switch r.Method {
	case http.MethodGet:
		v, err := c.get(rest)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	case http.MethodDelete:
		if err := c.remove(rest); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(w, "GET, DELETE")
}

// boolParam is the query parameter name as a boolean; absent is false.
func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusBadRequest, codeInvalid, "%s must be true or false, not %q", name, v)
	}
	return b, nil
}

// intParam is the query parameter name as a positive integer; absent is 0.
func intParam(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errorf(http.StatusBadRequest, codeInvalid, "%s must be a positive integer, not %q", name, v)
	}
	return n, nil
}
