package registry

import (
	"strings"
	"testing"
)

// splitRoute is parseRoute as it was written first, with strings.Split:
// the reference the allocation-free one is held to.
func splitRoute(path string) route {
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

func TestParseRoute(t *testing.T) {
	paths := []string{"/v2", "/v2/", "/v2/_catalog", "/v3/a/manifests/x", "/v2/a", "/v2/a/b",
		"/v2/acme/app/manifests/v1", "/v2/a/manifests/", "/v2//manifests/x", "/v2/manifests/x", "/v2/a/b/c/manifests/sha256:x",
		"/v2/acme/app/tags/list", "/v2/tags/list", "/v2/a/tags/list/", "/v2/a/referrers/sha256:x",
		"/v2/a/blobs/uploads/", "/v2/a/blobs/uploads", "/v2/a/blobs/uploads/123", "/v2/blobs/uploads/123", "/v2/blobs/uploads",
		"/v2/a/blobs/sha256:x", "/v2/a/blobs/blobs/x", "/v2/a/_chainctl/history/v1", "/v2/_chainctl/history/v1",
		"/v2/a/b/_chainctl/history/", "/v2/a/manifests/manifests/x", "/v2/a/tags", "/v2/a/blobs", "//v2/a/manifests/x"}
	for _, p := range paths {
		if got, want := parseRoute(p), splitRoute(p); got != want {
			t.Errorf("parseRoute(%q) = %+v, want %+v", p, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parseRoute("/v2/acme/team/app/manifests/v1.2.3") }); n != 0 {
		t.Errorf("parseRoute allocates %v times, want 0", n)
	}
}

func FuzzParseRoute(f *testing.F) {
	f.Add("/v2/acme/app/manifests/v1")
	f.Add("/v2/a/blobs/uploads/x")
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := parseRoute(p), splitRoute(p); got != want {
			t.Fatalf("parseRoute(%q) = %+v, want %+v", p, got, want)
		}
	})
}
