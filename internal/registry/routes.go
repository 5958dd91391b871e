package registry

import (
	"net/http"
	"strings"
)

// Route names, used for metrics labels and logs.
const (
	RouteBase      = "base"
	RouteCatalog   = "catalog"
	RouteBlob      = "blob"
	RouteUpload    = "upload"
	RouteManifest  = "manifest"
	RouteTags      = "tags"
	RouteReferrers = "referrers"
	RouteHistory   = "history"
	RouteUnknown   = "unknown"
)

// route is a parsed /v2/ request path. Nothing in it has been validated
// yet: handlers validate name and reference before using them.
type route struct {
	kind string
	name string // repository name
	ref  string // digest, tag, or upload id, depending on kind
}

// parseRoute splits an OCI API path. Repository names may contain slashes
// and even path components such as "blobs", so the path is read from the
// right, where its shape is fixed.
func parseRoute(path string) route {
	if path == "/v2" || path == "/v2/" {
		return route{kind: RouteBase}
	}
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return route{kind: RouteUnknown}
	}
	if rest == "_catalog" {
		return route{kind: RouteCatalog}
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	name := func(k int) string { return strings.Join(segs[:n-k], "/") }
	switch {
	// chainctl's own: /v2/<name>/_chainctl/history/<tag>. No repository
	// path component starts with "_", so no name is read two ways.
	case n >= 4 && segs[n-3] == "_chainctl" && segs[n-2] == "history":
		return route{kind: RouteHistory, name: name(3), ref: segs[n-1]}
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		return route{kind: RouteTags, name: name(2)}
	case n >= 3 && segs[n-2] == "manifests":
		return route{kind: RouteManifest, name: name(2), ref: segs[n-1]}
	case n >= 3 && segs[n-2] == "referrers":
		return route{kind: RouteReferrers, name: name(2), ref: segs[n-1]}
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		return route{kind: RouteUpload, name: name(3), ref: segs[n-1]}
	case n >= 3 && segs[n-2] == "blobs" && segs[n-1] == "uploads":
		return route{kind: RouteUpload, name: name(2)}
	case n >= 3 && segs[n-2] == "blobs":
		return route{kind: RouteBlob, name: name(2), ref: segs[n-1]}
	}
	return route{kind: RouteUnknown}
}

// RouteName classifies a request for metrics and logs: one of the Route*
// constants. It never allocates per repository, so label cardinality stays
// bounded.
func RouteName(r *http.Request) string {
	return parseRoute(r.URL.Path).kind
}
