package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/store"
)

// blobDigest validates the <digest> of a blob route.
func blobDigest(rt route) (digest.Digest, error) {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return "", errDigestInvalid(err.Error(), rt.ref)
	}
	return d, nil
}

// linkedBlobSize returns the size of dgst if repo holds it: a blob is
// readable only through repositories it was pushed or mounted into.
func (rg *registry) linkedBlobSize(r *http.Request, repo string, dgst digest.Digest) (int64, error) {
	size, err := rg.meta.BlobSize(r.Context(), repo, dgst)
	if errors.Is(err, store.ErrNotFound) {
		return 0, errBlobUnknown(string(dgst))
	}
	if err != nil {
		return 0, fmt.Errorf("look up blob %s in %s: %w", dgst, repo, err)
	}
	return size, nil
}

// getBlob serves GET and HEAD /v2/<name>/blobs/<digest>, with single byte
// ranges (RFC 9110 §14) for resumable pulls.
func (rg *registry) getBlob(w http.ResponseWriter, r *http.Request, rt route) error {
	dgst, err := blobDigest(rt)
	if err != nil {
		return err
	}
	size, err := rg.linkedBlobSize(r, rt.name, dgst)
	if err != nil {
		return err
	}
	h := w.Header()
	etag := `"` + string(dgst) + `"`
	h.Set("Docker-Content-Digest", string(dgst))
	h.Set("ETag", etag)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "max-age=31536000, immutable")
	if match := r.Header.Get("If-None-Match"); match == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	off, n, status := int64(0), size, http.StatusOK
	if rh := r.Header.Get("Range"); rh != "" && size > 0 {
		o, k, ok, err := parseRange(rh, size)
		if err != nil {
			return &Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "RANGE_INVALID",
				Message: "requested range not satisfiable", Header: http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}}
		}
		if ok {
			off, n, status = o, k, http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", o, o+k-1, size))
		}
	}
	if r.Method == http.MethodHead {
		if rg.checkedAtRest != nil {
			if err := rg.storedBlob(r, rt.name, dgst); err != nil {
				return err
			}
		}
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		w.WriteHeader(status)
		return nil
	}
	if status == http.StatusOK && rg.redirectBlob(w, r, rt.name, dgst) {
		return nil
	}
	rc, err := rg.blobs.Open(r.Context(), dgst, off, n)
	if errors.Is(err, storage.ErrNotFound) {
		return rg.missingBlob(r, rt.name, dgst)
	}
	if err != nil {
		return fmt.Errorf("open blob %s: %w", dgst, err)
	}
	defer rc.Close()
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	var copyErr error
	clientGone := true
	if status == http.StatusOK && (rg.checkedAtRest == nil || !rg.checkedAtRest()) {
		cw := &clientWriter{w: w}
		copyErr = copyVerified(cw, rc, dgst, n)
		clientGone = cw.err != nil
	} else {
		// Bytes checked at rest, and ranges (a part cannot be verified),
		// go as they are: io.Copy keeps the response writer's ReadFrom
		// (sendfile on the filesystem), and a failure is most likely the
		// client hanging up.
		_, copyErr = io.Copy(w, rc)
	}
	switch {
	case copyErr == nil:
		return nil
	case clientGone:
		rg.log.WarnContext(r.Context(), "blob download interrupted", "repository", rt.name, "digest", dgst, "err", copyErr)
	default:
		rg.log.ErrorContext(r.Context(), "blob download aborted", "repository", rt.name, "digest", dgst, "err", copyErr)
	}
	// The status line is gone. Abort the connection so that the client
	// sees a broken transfer, never a complete response with bad bytes.
	panic(http.ErrAbortHandler)
}

// storedBlob returns BLOB_UNKNOWN if dgst's bytes are not in storage.
func (rg *registry) storedBlob(r *http.Request, repo string, dgst digest.Digest) error {
	_, err := rg.blobs.Stat(r.Context(), dgst)
	if errors.Is(err, storage.ErrNotFound) {
		return rg.missingBlob(r, repo, dgst)
	}
	if err != nil {
		return fmt.Errorf("stat blob %s: %w", dgst, err)
	}
	return nil
}

// missingBlob logs a blob the metadata links but storage lacks (deleted by
// hand, or quarantined by registry fsck) and answers it as unknown, so
// that a client pushes it again.
func (rg *registry) missingBlob(r *http.Request, repo string, dgst digest.Digest) error {
	rg.log.ErrorContext(r.Context(), "blob linked but missing from storage", "repository", repo, "digest", dgst)
	return errBlobUnknown(string(dgst))
}

// redirectBlob answers a whole-blob GET with 307 to the URL of
// WithBlobURL, and reports whether it did. A failure to produce a URL is
// logged and the blob is streamed instead: the client still gets its bytes.
func (rg *registry) redirectBlob(w http.ResponseWriter, r *http.Request, repo string, dgst digest.Digest) bool {
	if rg.blobURL == nil {
		return false
	}
	u, err := rg.blobURL(r, repo, dgst)
	if err != nil {
		rg.log.WarnContext(r.Context(), "no redirect URL for blob; streaming it", "digest", dgst, "err", err)
		return false
	}
	if u == "" {
		return false
	}
	h := w.Header()
	// The URL expires: neither the redirect nor its target may be cached
	// as if it were the immutable blob.
	h.Del("ETag")
	h.Del("Accept-Ranges")
	h.Del("Content-Type")
	h.Set("Cache-Control", "no-store")
	h.Set("Location", u)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// deleteBlob unlinks a blob from a repository. The bytes stay in storage
// while other repositories link them; reclaiming unreferenced bytes is a
// garbage collector's job, not a request's, because a concurrent push may be
// about to link the same blob.
func (rg *registry) deleteBlob(w http.ResponseWriter, r *http.Request, rt route) error {
	dgst, err := blobDigest(rt)
	if err != nil {
		return err
	}
	err = rg.meta.UnlinkBlob(r.Context(), rt.name, dgst)
	if errors.Is(err, store.ErrNotFound) {
		return errBlobUnknown(string(dgst))
	}
	if err != nil {
		return fmt.Errorf("unlink blob %s from %s: %w", dgst, rt.name, err)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}
