package registry

import (
	"net/http"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/principal"
)

// Authorizer decides whether a request may perform an access. It returns
// who is acting and nil to allow, or an *Error (typically 401 with a
// WWW-Authenticate header, or 403 DENIED) to refuse. Every route consults
// it before touching storage, and puts the principal in the request's
// context (principal.FromContext) for what the handler records.
//
// optional are accesses the request can use if the caller has them but
// does not need: a cross-repository mount reads its source repository when
// allowed and falls back to an upload otherwise. An authorizer never
// refuses for want of them, but names them in a challenge so that a client
// asks for them too.
type Authorizer interface {
	Authorize(r *http.Request, a policy.Access, optional ...policy.Access) (principal.Principal, error)
}

// WithAuthorizer puts an access check in front of every route. Without
// one, every request is allowed.
func WithAuthorizer(a Authorizer) Option { return func(r *registry) { r.authz = a } }

func (rg *registry) authorize(r *http.Request, typ, name string, actions ...string) error {
	if rg.authz == nil {
		return nil
	}
	_, err := rg.authz.Authorize(r, policy.Access{Type: typ, Name: name, Actions: actions})
	return err
}

// mountSource is the pull of a mount's "from" repository, which an upload
// POST may use: named in challenges so clients ask for it.
func mountSource(r *http.Request, rt route) []policy.Access {
	if rt.kind != RouteUpload || r.Method != http.MethodPost {
		return nil
	}
	q := r.URL.Query()
	from := q.Get("from")
	if !q.Has("mount") || from == "" || policy.CheckRepository(from) != nil || from == rt.name {
		return nil
	}
	return []policy.Access{{Type: "repository", Name: from, Actions: []string{"pull"}}}
}

// canRead reports whether the caller may pull from repo, without failing
// the request: cross-repository mounts fall back to a fresh upload.
func (rg *registry) canRead(r *http.Request, repo string) bool {
	return rg.authorize(r, "repository", repo, "pull") == nil
}

// handlerFunc is a route handler. It returns an error instead of writing
// one; writeError renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rt route) error

func (rg *registry) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt := parseRoute(r.URL.Path)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = clientBody{r.Body}
	}
	r, err := rg.dispatch(w, r, rt)
	var e *Error
	if err != nil {
		e = rg.writeError(w, r, rt, err)
	}
	rg.observe(w, r, rt, e)
}

// owner is the key of the principal acting in r (principal.Key): an
// upload belongs to it. Without an authorizer everyone is anonymous, "".
func owner(r *http.Request) string {
	p, _ := principal.FromContext(r.Context())
	return p.Key()
}

// dispatch serves r and returns the request as the handler saw it (with
// the principal in its context, once authorized) and the error to answer.
func (rg *registry) dispatch(w http.ResponseWriter, r *http.Request, rt route) (*http.Request, error) {
	switch rt.kind {
	case RouteBase:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return r, errUnsupported("method not allowed")
		}
		if err := rg.authorize(r, "registry", "", ""); err != nil {
			return r, err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte("{}"))
		}
		return r, nil
	case RouteCatalog:
		if r.Method != http.MethodGet {
			return r, errUnsupported("method not allowed")
		}
		if err := rg.authorize(r, "registry", "catalog", "*"); err != nil {
			return r, err
		}
		return r, rg.getCatalog(w, r)
	case RouteUnknown:
		return r, errNotFound()
	}
	if err := policy.CheckRepository(rt.name); err != nil {
		return r, errNameInvalid(rt.name, err.Error())
	}
	var h handlerFunc
	var action string
	switch rt.kind {
	case RouteBlob:
		h, action = rg.blobMethod(r.Method)
	case RouteUpload:
		h, action = rg.uploadMethod(r.Method)
	case RouteManifest:
		h, action = rg.manifestMethod(r.Method)
	case RouteTags:
		h, action = rg.onlyGet(r.Method, rg.getTags)
	case RouteReferrers:
		h, action = rg.onlyGet(r.Method, rg.getReferrers)
	case RouteHistory:
		if rg.history == nil {
			return r, errNotFound()
		}
		h, action = rg.onlyGet(r.Method, rg.getHistory)
	}
	if h == nil {
		return r, errUnsupported("method " + r.Method + " not allowed on this endpoint")
	}
	if rg.authz != nil {
		p, err := rg.authz.Authorize(r, policy.Access{Type: "repository", Name: rt.name, Actions: []string{action}}, mountSource(r, rt)...)
		if err != nil {
			return r, err
		}
		r = r.WithContext(principal.NewContext(r.Context(), p))
	}
	return r, h(w, r, rt)
}

func (rg *registry) onlyGet(method string, h handlerFunc) (handlerFunc, string) {
	if method == http.MethodGet || method == http.MethodHead {
		return h, "pull"
	}
	return nil, ""
}

func (rg *registry) blobMethod(method string) (handlerFunc, string) {
	switch method {
	case http.MethodGet, http.MethodHead:
		return rg.getBlob, "pull"
	case http.MethodDelete:
		return rg.deleteBlob, "delete"
	}
	return nil, ""
}

func (rg *registry) uploadMethod(method string) (handlerFunc, string) {
	switch method {
	case http.MethodPost:
		return rg.startUpload, "push"
	case http.MethodPatch:
		return rg.patchUpload, "push"
	case http.MethodPut:
		return rg.putUpload, "push"
	case http.MethodGet:
		return rg.uploadStatus, "push"
	case http.MethodDelete:
		return rg.cancelUpload, "push"
	}
	return nil, ""
}

func (rg *registry) manifestMethod(method string) (handlerFunc, string) {
	switch method {
	case http.MethodGet, http.MethodHead:
		return rg.getManifest, "pull"
	case http.MethodPut:
		return rg.putManifest, "push"
	case http.MethodDelete:
		return rg.deleteManifest, "delete"
	}
	return nil, ""
}
