package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

func manifestReference(rt route) (reference, error) {
	ref, err := parseReference(rt.ref)
	if err != nil {
		if strings.Contains(rt.ref, ":") {
			return reference{}, errDigestInvalid(err.Error(), rt.ref)
		}
		return reference{}, errTagInvalid(rt.ref)
	}
	return ref, nil
}

// getManifest serves GET and HEAD /v2/<name>/manifests/<reference>.
func (rg *registry) getManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	ref, err := manifestReference(rt)
	if err != nil {
		return err
	}
	var m *store.Manifest
	if ref.digest != "" {
		m, err = rg.meta.GetManifest(r.Context(), rt.name, ref.digest)
	} else {
		m, err = rg.meta.GetTaggedManifest(r.Context(), rt.name, ref.tag)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errManifestUnknown(ref.String())
	}
	if err != nil {
		return fmt.Errorf("get manifest %s in %s: %w", ref, rt.name, err)
	}
	if !accepts(r.Header.Values("Accept"), m.MediaType) {
		e := errManifestUnknown(ref.String())
		e.Message = "manifest is of type " + m.MediaType + ", which the Accept header does not allow"
		return e
	}
	h := w.Header()
	h.Set("Content-Type", m.MediaType)
	h.Set("Content-Length", strconv.FormatInt(int64(len(m.Content)), 10))
	h.Set("Docker-Content-Digest", string(m.Digest))
	h.Set("ETag", `"`+string(m.Digest)+`"`)
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = w.Write(m.Content)
	return nil
}

// accepts reports whether an Accept header allows a manifest of media type
// mt. No Accept header, a wildcard, or a list naming no manifest type at all
// (a plain HTTP client) accepts anything; a client that names manifest types
// gets one of those or none, so that it never has to parse a format it
// did not ask for.
func accepts(values []string, mt string) bool {
	namesManifest := false
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			t := strings.TrimSpace(part)
			// A bare lower-case type (what clients send) is its own media
			// type; only one with parameters or capitals needs parsing,
			// which costs a map a call. A malformed bare one can equal none
			// of the types compared below, as a parse error skips it.
			if strings.ContainsAny(t, ";ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				var err error
				if t, _, err = mime.ParseMediaType(t); err != nil {
					continue
				}
			}
			switch {
			case t == mt || t == "*/*" || t == "application/*":
				return true
			case knownManifestType(t):
				namesManifest = true
			}
		}
	}
	return !namesManifest
}

// putManifest serves PUT /v2/<name>/manifests/<reference>.
func (rg *registry) putManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	ref, err := manifestReference(rt)
	if err != nil {
		return err
	}
	if r.ContentLength > maxManifestSize {
		return errTooLarge(fmt.Sprintf("manifest is larger than %d bytes", maxManifestSize))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestSize+1))
	if err != nil {
		return fmt.Errorf("read manifest: %w", err) // a client fault: writeError answers it
	}
	if len(body) > maxManifestSize {
		return errTooLarge(fmt.Sprintf("manifest is larger than %d bytes", maxManifestSize))
	}
	alg := digest.SHA256
	if ref.digest != "" {
		alg = ref.digest.Algorithm()
	}
	dgst := alg.FromBytes(body)
	if ref.digest != "" && dgst != ref.digest {
		return errDigestInvalid("manifest content does not match the digest in the URL", string(ref.digest))
	}
	p, err := parseManifest(r.Header.Get("Content-Type"), body)
	if err != nil {
		return errManifestInvalid(err.Error())
	}
	if err := rg.checkReferences(r, rt.name, p); err != nil {
		return err
	}
	m := &store.Manifest{
		Repository: rt.name, Digest: dgst, MediaType: p.MediaType, ArtifactType: p.ArtifactType,
		Size: int64(len(body)), Content: bytes.Clone(body), Subject: p.Subject, Annotations: p.Annotations,
		Blobs: p.Blobs, Children: p.Children, Created: time.Now().UTC(),
	}
	_, err = rg.meta.PutManifest(r.Context(), m, ref.tag, rg.pushManifestEvent(r, rt, m, ref.tag)...)
	if errors.Is(err, store.ErrBlobUnknown) {
		// Garbage collection removed a link or child checked above.
		return errManifestBlobUnknown("")
	}
	if err != nil {
		return fmt.Errorf("put manifest %s in %s: %w", dgst, rt.name, err)
	}
	h := w.Header()
	h.Set("Location", "/v2/"+rt.name+"/manifests/"+string(dgst))
	h.Set("Docker-Content-Digest", string(dgst))
	if p.Subject != "" {
		h.Set("OCI-Subject", string(p.Subject))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// checkReferences refuses a manifest whose blobs (or, for an index, child
// manifests) the repository does not hold, or whose descriptors declare
// another size than what is stored: every client that pulled it would fail
// its size check. The subject need not exist: a signature may be pushed
// before what it signs.
func (rg *registry) checkReferences(r *http.Request, repo string, p *parsedManifest) error {
	sizes, err := rg.meta.BlobSizes(r.Context(), repo, p.Blobs)
	if err != nil {
		return fmt.Errorf("check blobs: %w", err)
	}
	for i, d := range p.Blobs {
		size, ok := sizes[d]
		if !ok {
			return errManifestBlobUnknown(string(d))
		}
		if size != p.BlobSizes[i] {
			return errDescriptorSize("blob", d, p.BlobSizes[i], size)
		}
	}
	for i, d := range p.Children {
		m, err := rg.meta.GetManifest(r.Context(), repo, d)
		if errors.Is(err, store.ErrNotFound) {
			return errManifestBlobUnknown(string(d))
		}
		if err != nil {
			return fmt.Errorf("check manifest %s: %w", d, err)
		}
		if m.Size != p.ChildSizes[i] {
			return errDescriptorSize("manifest", d, p.ChildSizes[i], m.Size)
		}
	}
	return nil
}

// deleteManifest serves DELETE by digest (the manifest and its tags) or
// by tag (only the tag).
func (rg *registry) deleteManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	ref, err := manifestReference(rt)
	if err != nil {
		return err
	}
	if ref.digest != "" {
		err = rg.meta.DeleteManifest(r.Context(), rt.name, ref.digest)
	} else {
		err = rg.meta.DeleteTag(r.Context(), rt.name, ref.tag)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errManifestUnknown(ref.String())
	}
	if err != nil {
		return fmt.Errorf("delete manifest %s in %s: %w", ref, rt.name, err)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}
