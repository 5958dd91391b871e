package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/chainctl/chainctl/internal/jsonenc"
	"github.com/chainctl/chainctl/internal/store"
)

// maxPageSize clamps the n of tag and catalog listings; it is also the page
// size when n is not given. Larger lists are paginated with a Link header.
const maxPageSize = 10000

// pageParams reads n and last. n is clamped to [0, maxPageSize].
func pageParams(r *http.Request) (n int, last string, err error) {
	q := r.URL.Query()
	n = maxPageSize
	if v := q.Get("n"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 {
			return 0, "", newError(http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "n must be a non-negative integer", map[string]string{"n": v})
		}
		n = min(k, maxPageSize)
	}
	return n, q.Get("last"), nil
}

// nextLink sets an RFC 8288 Link header to the next page when there is one.
func nextLink(w http.ResponseWriter, path string, n int, last string) {
	q := url.Values{"n": {strconv.Itoa(n)}, "last": {last}}
	w.Header().Set("Link", "<"+path+"?"+q.Encode()+`>; rel="next"`)
}

func writeJSON(w http.ResponseWriter, r *http.Request, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	writeBody(w, r, contentType, b)
	return nil
}

// writeBody answers b, of contentType, with its length (no body to HEAD).
func writeBody(w http.ResponseWriter, r *http.Request, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// appendStringArray appends list as a JSON array of strings, as
// encoding/json writes it: a tags list of a thousand names encoded by
// reflection cost a tenth of the request.
func appendStringArray(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
	}
	return append(b, ']')
}

// listSize is room for list's JSON array when its strings need no escapes.
func listSize(list []string) int {
	n := 2
	for _, s := range list {
		n += len(s) + 3
	}
	return n
}

// getTags serves GET /v2/<name>/tags/list with n/last pagination.
func (rg *registry) getTags(w http.ResponseWriter, r *http.Request, rt route) error {
	n, last, err := pageParams(r)
	if err != nil {
		return err
	}
	tags := []string{}
	if n > 0 {
		// Ask for one more than the page to learn whether a next page exists.
		tags, err = rg.meta.Tags(r.Context(), rt.name, last, n+1)
		if errors.Is(err, store.ErrNotFound) {
			return errNameUnknown(rt.name)
		}
		if err != nil {
			return fmt.Errorf("list tags of %s: %w", rt.name, err)
		}
		if len(tags) > n {
			tags = tags[:n]
			nextLink(w, r.URL.Path, n, tags[n-1])
		}
	}
	b := make([]byte, 0, len(rt.name)+24+listSize(tags))
	b = append(b, `{"name":`...)
	b = jsonenc.AppendString(b, rt.name)
	b = append(b, `,"tags":`...)
	b = append(appendStringArray(b, tags), '}')
	writeBody(w, r, "application/json", b)
	return nil
}

// getCatalog serves GET /v2/_catalog with n/last pagination.
func (rg *registry) getCatalog(w http.ResponseWriter, r *http.Request) error {
	n, last, err := pageParams(r)
	if err != nil {
		return err
	}
	repos := []string{}
	if n > 0 {
		repos, err = rg.meta.Repositories(r.Context(), last, n+1)
		if err != nil {
			return fmt.Errorf("list repositories: %w", err)
		}
		if len(repos) > n {
			repos = repos[:n]
			nextLink(w, r.URL.Path, n, repos[n-1])
		}
	}
	b := make([]byte, 0, 20+listSize(repos))
	b = append(b, `{"repositories":`...)
	b = append(appendStringArray(b, repos), '}')
	writeBody(w, r, "application/json", b)
	return nil
}

// getReferrers serves GET /v2/<name>/referrers/<digest>: an image index of
// the manifests whose subject is digest, optionally filtered by
// artifactType. An unknown subject has no referrers (200, empty), as the
// spec requires.
func (rg *registry) getReferrers(w http.ResponseWriter, r *http.Request, rt route) error {
	dgst, err := parseDigest(rt.ref)
	if err != nil {
		return errDigestInvalid(err.Error(), rt.ref)
	}
	artifactType := r.URL.Query().Get("artifactType")
	refs, err := rg.meta.Referrers(r.Context(), rt.name, dgst, artifactType)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("list referrers of %s in %s: %w", dgst, rt.name, err)
	}
	manifests := make([]descriptor, 0, len(refs))
	for _, d := range refs {
		manifests = append(manifests, descriptor{
			MediaType: d.MediaType, ArtifactType: d.ArtifactType, Digest: string(d.Digest),
			Size: d.Size, Annotations: d.Annotations,
		})
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return writeJSON(w, r, mediaTypeOCIIndex, struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{2, mediaTypeOCIIndex, manifests})
}
