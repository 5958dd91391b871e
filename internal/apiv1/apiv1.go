// Package apiv1 is the registry's management API under /api/v1/: HTTP and
// JSON over the operations the domain packages offer (identities, pull
// tokens, event subscriptions and the event log). Every resource shares one
// router, one request decoder and one error writer:
//
//	{"error": "<code>", "message": "<text for people>"}
//
// with codes unauthorized (401), forbidden (403), not_found (404), invalid
// (400, 405, 413, 415), conflict (409) and internal (500, logged, never
// explained). Every request needs "Authorization: Bearer <session
// token>".
package apiv1

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

// Identities is what the identities resource needs: auth.Service's
// management operations.
type Identities interface {
	Caller(ctx context.Context, sessionToken string) (*auth.Caller, error)
	Identities(ctx context.Context, caller *auth.Caller) []auth.IdentityView
	Identity(ctx context.Context, caller *auth.Caller, id string) (auth.IdentityView, error)
	CreateIdentity(ctx context.Context, caller *auth.Caller, id policy.Identity) (auth.IdentityView, error)
	DeleteIdentity(ctx context.Context, caller *auth.Caller, id string) error
	TestToken(ctx context.Context, caller *auth.Caller, raw string) auth.TestResult
}

// Option configures the API.
type Option func(*api)

// WithLogger sets the logger for the registry's own failures (default:
// discard).
func WithLogger(l *slog.Logger) Option { return func(a *api) { a.log = l } }

// WithRealm sets the realm of the WWW-Authenticate challenge of a 401: the
// registry's service name.
func WithRealm(realm string) Option { return func(a *api) { a.realm = realm } }

type api struct {
	ids   Identities
	pts   PullTokens
	subs  Subscriptions
	evlog EventLog
	log   *slog.Logger
	realm string
}

// New returns the API as an http.Handler for paths under Prefix.
func New(ids Identities, opts ...Option) http.Handler {
	a := &api{ids: ids, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(a)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.serve(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// serve authenticates the caller and routes to a resource.
func (a *api) serve(w http.ResponseWriter, r *http.Request) error {
	raw, present, err := auth.BearerToken(r)
	if err != nil || !present {
		raw = ""
	}
	caller, err := a.ids.Caller(r.Context(), raw)
	if err != nil {
		return err
	}
	resource, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	switch resource {
	case "identities":
		return a.identities(w, r, caller, rest)
	case "pull-tokens":
		return a.pullTokens(w, r, caller, rest)
	case "subscriptions":
		return a.subscriptions(w, r, caller, rest)
	case "events":
		return a.events(w, r, caller, rest)
	}
	return notFound(r)
}

func notFound(r *http.Request) error {
	return errorf(http.StatusNotFound, codeNotFound, "no API endpoint %s", r.URL.Path)
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return errorf(http.StatusMethodNotAllowed, codeInvalid, "use %s", allow)
}

// writeError renders err: an *Error of this package or an *auth.Error
// with its status and message; anything else is the registry's failure,
// logged and answered 500 "internal error".
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if e == nil {
		a.log.ErrorContext(r.Context(), "management API", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("Www-Authenticate", `Bearer realm="`+a.realm+`"`)
	}
	_ = writeJSON(w, e.Status, map[string]string{"error": e.Code, "message": e.Message})
}

// asError is err as the API answers it, or nil for an internal failure.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var er *events.Refusal
	if errors.As(err, &er) {
		switch er.Kind {
		case events.KindForbidden:
			return &Error{Status: http.StatusForbidden, Code: codeForbidden, Message: er.Message}
		case events.KindNotFound:
			return &Error{Status: http.StatusNotFound, Code: codeNotFound, Message: er.Message}
		case events.KindInvalid:
			return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: er.Message}
		}
		return nil
	}
	var ae *auth.Error
	if !errors.As(err, &ae) {
		return nil
	}
	status, code := http.StatusInternalServerError, "internal"
	switch ae.Kind {
	case auth.KindUnauthenticated:
		status, code = http.StatusUnauthorized, codeUnauthorized
	case auth.KindForbidden:
		status, code = http.StatusForbidden, codeForbidden
	case auth.KindNotFound:
		status, code = http.StatusNotFound, codeNotFound
	case auth.KindInvalid:
		status, code = http.StatusBadRequest, codeInvalid
	case auth.KindConflict:
		status, code = http.StatusConflict, codeConflict
	default:
		return nil
	}
	return &Error{Status: status, Code: code, Message: ae.Message}
}
