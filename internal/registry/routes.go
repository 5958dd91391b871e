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
// right, where its shape is fixed. It allocates nothing: the name and
// reference are substrings of path (every request is routed twice, for
// its metrics label and to serve it).
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
	// seg[k] is the (k+1)th segment from the right and rest[:cut[k]] all
	// before it; m of them have a slash before them.
	var seg [3]string
	var cut [3]int
	m, end := 0, len(rest)
	for m < len(seg) {
		i := strings.LastIndexByte(rest[:end], '/')
		if i < 0 {
			break
		}
		seg[m], cut[m], end = rest[i+1:end], i, i
		m++
	}
	switch {
	// chainctl's own: /v2/<name>/_chainctl/history/<tag>. No repository
	// path component starts with "_", so no name is read two ways.
	case m == 3 && seg[2] == "_chainctl" && seg[1] == "history":
		return route{kind: RouteHistory, name: rest[:cut[2]], ref: seg[0]}
	case m >= 2 && seg[1] == "tags" && seg[0] == "list":
		return route{kind: RouteTags, name: rest[:cut[1]]}
	case m >= 2 && seg[1] == "manifests":
		return route{kind: RouteManifest, name: rest[:cut[1]], ref: seg[0]}
	case m >= 2 && seg[1] == "referrers":
		return route{kind: RouteReferrers, name: rest[:cut[1]], ref: seg[0]}
	case m == 3 && seg[2] == "blobs" && seg[1] == "uploads":
		return route{kind: RouteUpload, name: rest[:cut[2]], ref: seg[0]}
	case m >= 2 && seg[1] == "blobs" && seg[0] == "uploads":
		return route{kind: RouteUpload, name: rest[:cut[1]]}
	case m >= 2 && seg[1] == "blobs":
		return route{kind: RouteBlob, name: rest[:cut[1]], ref: seg[0]}
	}
	return route{kind: RouteUnknown}
}

// RouteName classifies a request for metrics and logs: one of the Route*
// constants. It never allocates per repository, so label cardinality stays
// bounded.
func RouteName(r *http.Request) string {
	return parseRoute(r.URL.Path).kind
}
