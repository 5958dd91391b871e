package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/principal"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/store"
)

// maxMountCandidates bounds how many repositories holding a blob are
// checked for a mount without "from".
const maxMountCandidates = 50

func newUploadID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

func blobLocation(name string, d digest.Digest) string { return "/v2/" + name + "/blobs/" + string(d) }

// queryDigest reads and validates the "digest" query parameter.
func queryDigest(r *http.Request, param string) (digest.Digest, error) {
	v := r.URL.Query().Get(param)
	if v == "" {
		return "", errDigestInvalid("the "+param+" query parameter is required", "")
	}
	d, err := parseDigest(v)
	if err != nil {
		return "", errDigestInvalid(err.Error(), v)
	}
	return d, nil
}

// startUpload serves POST /v2/<name>/blobs/uploads/: a monolithic push
// (?digest=), a cross-repository mount (?mount=[&from=]), or a new upload
// session.
func (rg *registry) startUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	q := r.URL.Query()
	if q.Has("mount") {
		mounted, err := rg.mount(w, r, rt)
		if err != nil || mounted {
			return err
		}
	} else if q.Has("digest") {
		return rg.putMonolithic(w, r, rt)
	}
	// The session is recorded first, so that a refusal (a cap reached)
	// costs the blob store nothing. A store that would rather take whole
	// blobs with Put starts the upload only if a chunk comes (started):
	// most clients PUT the whole blob next.
	id := newUploadID()
	deferred := rg.prefersPut()
	u := store.Upload{ID: id, Repository: rt.name, Owner: owner(r), Started: rg.now().UTC(), Deferred: deferred}
	err := rg.meta.CreateUpload(r.Context(), u, rg.uploadCaps)
	if errors.Is(err, store.ErrTooManyUploads) {
		p, _ := principal.FromContext(r.Context())
		rg.log.InfoContext(r.Context(), "refused an upload past a cap", "repository", rt.name, "principal", p, "err", err)
		return errTooManyUploads()
	}
	if err != nil {
		return fmt.Errorf("record upload: %w", err)
	}
	if deferred {
		writeUploadStatus(w, rt.name, id, 0, http.StatusAccepted)
		return nil
	}
	if err := rg.blobs.StartUpload(r.Context(), id); err != nil {
		if derr := rg.meta.DeleteUpload(context.WithoutCancel(r.Context()), id); derr != nil {
			rg.log.WarnContext(r.Context(), "forget an upload whose storage did not start", "upload", id, "err", derr)
		}
		return fmt.Errorf("start upload: %w", err)
	}
	writeUploadStatus(w, rt.name, id, 0, http.StatusAccepted)
	return nil
}

// mount links an existing blob into rt.name when the caller may read it in
// a repository that holds it (the one named by "from", if given). It
// reports false, with no response written, when the caller must upload.
func (rg *registry) mount(w http.ResponseWriter, r *http.Request, rt route) (bool, error) {
	q := r.URL.Query()
	dgst, err := queryDigest(r, "mount")
	if err != nil {
		return false, err
	}
	var candidates []string
	if from := q.Get("from"); from != "" {
		if err := policy.CheckRepository(from); err != nil {
			return false, errNameInvalid(from, err.Error())
		}
		candidates = []string{from}
	} else {
		candidates, err = rg.meta.BlobRepositories(r.Context(), dgst, maxMountCandidates)
		if err != nil {
			return false, fmt.Errorf("find repositories holding %s: %w", dgst, err)
		}
	}
	for _, repo := range candidates {
		if !rg.canRead(r, repo) {
			continue
		}
		size, err := rg.meta.BlobSize(r.Context(), repo, dgst)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("look up blob %s in %s: %w", dgst, repo, err)
		}
		err = rg.linkBlob(r, rt.name, dgst, size, time.Time{})
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusServiceUnavailable {
			return false, nil // being collected: the client uploads instead
		}
		if err != nil {
			return false, err
		}
		writeBlobCreated(w, rt.name, dgst)
		return true, nil
	}
	return false, nil
}

// putMonolithic stores the request body as one blob (POST ?digest=).
func (rg *registry) putMonolithic(w http.ResponseWriter, r *http.Request, rt route) error {
	dgst, err := queryDigest(r, "digest")
	if err != nil {
		return err
	}
	wrote := rg.now()
	size, err := rg.blobs.Put(r.Context(), dgst, r.Body)
	if err != nil {
		return blobWriteError(err, dgst)
	}
	if err := rg.linkBlob(r, rt.name, dgst, size, wrote); err != nil {
		return err
	}
	writeBlobCreated(w, rt.name, dgst)
	return nil
}

// freshWrite is how recently a request must have begun writing a blob's
// bytes for its link to skip the check that they are still stored: half
// the shortest grace period of garbage collection, leaving the other half
// for clocks (the collector's, the storage's) that disagree.
const freshWrite = 30 * time.Second

// forgetUpload is the store.TxFunc that deletes the finished upload id.
func forgetUpload(id string) store.TxFunc {
	return func(ctx context.Context, tx store.Tx, _ store.Written) error { return tx.DeleteUpload(ctx, id) }
}

// linkBlob links a blob whose bytes are in storage into repo, with also
// written in the same transaction, then checks that they still are.
// Garbage collection deletes bytes only while no repository links them
// (under a tombstone that makes LinkBlob fail), but it may have found them
// unlinked between the commit of the bytes and this link; checking after
// linking catches that, and the client uploads again.
//
// wrote is when this request began to Put the bytes itself (zero if it did
// not: a mount, a committed upload whose bytes may be old). Collection
// deletes only bytes written before its grace period (at least a minute,
// `registry gc` enforces it), so bytes written less than freshWrite ago
// cannot have been collected, and need no check: on S3 that is one
// HeadObject a blob fewer.
func (rg *registry) linkBlob(r *http.Request, repo string, dgst digest.Digest, size int64, wrote time.Time, also ...store.TxFunc) error {
	ctx := r.Context()
	err := rg.meta.LinkBlob(ctx, repo, dgst, size, append(also, rg.pushBlobEvent(r, repo, dgst)...)...)
	if errors.Is(err, store.ErrBlobDeleted) {
		return errBlobCollected(string(dgst))
	}
	if err != nil {
		return fmt.Errorf("link blob %s into %s: %w", dgst, repo, err)
	}
	if !wrote.IsZero() && rg.now().Sub(wrote) < freshWrite {
		return nil
	}
	_, err = rg.blobs.Stat(ctx, dgst)
	if errors.Is(err, storage.ErrNotFound) {
		if err := rg.meta.UnlinkBlob(context.WithoutCancel(ctx), repo, dgst); err != nil && !errors.Is(err, store.ErrNotFound) {
			rg.log.ErrorContext(ctx, "unlink blob whose bytes were collected", "repository", repo, "digest", dgst, "err", err)
		}
		return errBlobCollected(string(dgst))
	}
	if err != nil {
		return fmt.Errorf("stat blob %s: %w", dgst, err)
	}
	return nil
}

func blobWriteError(err error, dgst digest.Digest) error {
	switch {
	case errors.Is(err, storage.ErrDigestMismatch):
		return errDigestInvalid("uploaded content does not match digest", string(dgst))
	case errors.Is(err, storage.ErrUnsupportedDigest):
		return errDigestInvalid("unsupported digest algorithm", string(dgst))
	}
	return fmt.Errorf("write blob %s: %w", dgst, err)
}

// session returns the upload rt refers to. An upload belongs to the
// repository it was started in and to the principal that started it: its
// id used under another name, or by anyone else — even someone who may
// push to the repository — is unknown, so one client can neither read,
// continue, finish nor cancel another's upload.
func (rg *registry) session(r *http.Request, rt route) (*store.Upload, error) {
	if rt.ref == "" {
		return nil, errBlobUploadUnknown("")
	}
	u, err := rg.meta.GetUpload(r.Context(), rt.ref)
	if errors.Is(err, store.ErrNotFound) || err == nil && (u.Repository != rt.name || u.Owner != owner(r)) {
		return nil, errBlobUploadUnknown(rt.ref)
	}
	if err != nil {
		return nil, fmt.Errorf("look up upload: %w", err)
	}
	return u, nil
}

// patchUpload appends a chunk (PATCH with Content-Range) or streams the
// body (PATCH without it) to an upload session.
func (rg *registry) patchUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	u, err := rg.session(r, rt)
	if err != nil {
		return err
	}
	rg.keepAlive(r, u)
	var size int64
	if u.Deferred {
		if err := rg.started(r, u); err != nil {
			return err
		}
		size, err = rg.writeChunkAt(r, u.ID, true, 0)
	} else {
		size, err = rg.writeChunk(r, u.ID, true)
	}
	if err != nil {
		return err
	}
	writeUploadStatus(w, rt.name, u.ID, size, http.StatusAccepted)
	return nil
}

// started starts u, which the registry deferred (see startUpload), in the
// blob store: before its first chunk is written.
func (rg *registry) started(r *http.Request, u *store.Upload) error {
	ctx := r.Context()
	if err := rg.blobs.StartUpload(ctx, u.ID); err != nil {
		// Started already, by a request on the upload that failed to
		// record it or is still running (a client retrying a chunk).
		if _, serr := rg.blobs.UploadSize(ctx, u.ID); serr != nil {
			return fmt.Errorf("start upload: %w", err)
		}
	}
	err := rg.meta.StartedUpload(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errBlobUploadUnknown(u.ID) // cancelled or finished meanwhile
	}
	if err != nil {
		return fmt.Errorf("record upload started: %w", err)
	}
	u.Deferred = false
	return nil
}

// writeChunk appends the request body to an upload. A Content-Range must
// start where the upload ends, else 416 (chunks out of order).
//
// A chunk with a Content-Range is written at its start without asking the
// store for the upload's size first (on S3 a read of the upload's state):
// the store refuses a write that does not start where the upload ends, and
// only then is the size read, for the 416's Range.
func (rg *registry) writeChunk(r *http.Request, id string, requireBody bool) (int64, error) {
	if cr := r.Header.Get("Content-Range"); cr != "" {
		if start, _, err := parseContentRange(cr); err == nil {
			return rg.writeChunkAt(r, id, requireBody, start)
		}
	}
	cur, err := rg.uploadSize(r, id)
	if err != nil {
		return 0, err
	}
	return rg.writeChunkAt(r, id, requireBody, cur)
}

// uploadSize is the number of bytes upload id holds.
func (rg *registry) uploadSize(r *http.Request, id string) (int64, error) {
	cur, err := rg.blobs.UploadSize(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, errBlobUploadUnknown(id)
	}
	if err != nil {
		return 0, fmt.Errorf("upload size: %w", err)
	}
	return cur, nil
}

// writeChunkAt is writeChunk on an upload known to hold cur bytes.
func (rg *registry) writeChunkAt(r *http.Request, id string, requireBody bool, cur int64) (int64, error) {
	ctx := r.Context()
	body := io.Reader(r.Body)
	if cr := r.Header.Get("Content-Range"); cr != "" {
		start, end, err := parseContentRange(cr)
		if err != nil {
			return 0, errRangeInvalid(err.Error())
		}
		if start != cur {
			return 0, rangeMismatch(cur, start)
		}
		n := end - start + 1
		if r.ContentLength >= 0 && r.ContentLength != n {
			return 0, errSizeInvalid(fmt.Sprintf("Content-Length %d does not match Content-Range %s", r.ContentLength, cr))
		}
		body = io.LimitReader(r.Body, n)
	} else if !requireBody && r.ContentLength == 0 {
		return cur, nil
	}
	size, err := rg.blobs.WriteUpload(ctx, id, cur, body)
	switch {
	case errors.Is(err, storage.ErrOffsetMismatch):
		have, serr := rg.uploadSize(r, id)
		if serr != nil {
			return 0, serr
		}
		return 0, rangeMismatch(have, cur)
	case errors.Is(err, storage.ErrNotFound):
		return 0, errBlobUploadUnknown(id)
	case err != nil:
		return 0, fmt.Errorf("write upload chunk: %w", err)
	}
	return size, nil
}

func rangeMismatch(have, got int64) *Error {
	e := errRangeInvalid(fmt.Sprintf("chunk starts at %d but the upload has %d bytes", got, have))
	e.Header = http.Header{"Range": {rangeHeader(have)}}
	return e
}

// putUpload finishes an upload: an optional last chunk, then the digest
// check and commit (PUT ?digest=).
func (rg *registry) putUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	u, err := rg.session(r, rt)
	if err != nil {
		return err
	}
	rg.keepAlive(r, u)
	dgst, err := queryDigest(r, "digest")
	if err != nil {
		return err
	}
	whole, cur, err := rg.isWholeBlob(r, u)
	if err != nil {
		return err
	}
	var size int64
	var wrote time.Time // set when this request writes the bytes itself
	if whole {
		wrote = rg.now()
		// POST, then PUT with the whole blob (containerd, the spec's
		// monolithic upload): stream it straight to the blob store, one
		// Put instead of an append and a commit (on S3, one PutObject
		// instead of half a dozen requests), and drop the empty upload.
		if size, err = rg.blobs.Put(r.Context(), dgst, r.Body); err != nil {
			return blobWriteError(err, dgst)
		}
		if !u.Deferred {
			if err := rg.blobs.CancelUpload(r.Context(), u.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				rg.log.WarnContext(r.Context(), "discard the empty upload of a whole-blob PUT", "upload", u.ID, "err", err)
			}
		}
	} else {
		if u.Deferred {
			if err := rg.started(r, u); err != nil {
				return err
			}
			cur = 0
		}
		// A last chunk, if the PUT has one. Without one (the usual close
		// after PATCHes) there is nothing to append, and CommitUpload
		// itself reports an unknown upload.
		if r.ContentLength != 0 || r.Header.Get("Content-Range") != "" {
			if cur < 0 {
				if cur, err = rg.uploadSize(r, u.ID); err != nil {
					return err
				}
			}
			if _, err := rg.writeChunkAt(r, u.ID, false, cur); err != nil {
				return err
			}
		}
		size, err = rg.blobs.CommitUpload(r.Context(), u.ID, dgst)
		if errors.Is(err, storage.ErrNotFound) {
			return errBlobUploadUnknown(u.ID)
		}
		if err != nil {
			return blobWriteError(err, dgst)
		}
	}
	// The upload is forgotten in the link's transaction: one commit.
	if err := rg.linkBlob(r, rt.name, dgst, size, wrote, forgetUpload(u.ID)); err != nil {
		return err
	}
	writeBlobCreated(w, rt.name, dgst)
	return nil
}

// putPreferrer is a blob store for which Put costs less than appending a
// whole blob to an empty upload and committing it. With it the registry
// defers starting an upload in the store to its first chunk, so that a
// POST then a whole-blob PUT is one Put: on S3 one PutObject against half
// a dozen requests; on the filesystem a temporary file renamed, against an
// upload's directory, data file and hash state made and removed.
type putPreferrer interface {
	PreferPutForWholeBlobs() bool
}

// prefersPut reports whether the blob store would rather take a whole
// blob with Put than as an upload.
func (rg *registry) prefersPut() bool {
	p, ok := rg.blobs.(putPreferrer)
	return ok && p.PreferPutForWholeBlobs()
}

// isWholeBlob reports whether a closing PUT carries the whole blob (a body
// without Content-Range on an upload that has received nothing yet) and
// the blob store would rather take it with Put. cur is the upload's size
// if it had to be read, else -1. An upload the store has not started
// (Deferred) has received nothing: any PUT without Content-Range carries
// the whole blob, the empty one included, and asks the store nothing.
func (rg *registry) isWholeBlob(r *http.Request, u *store.Upload) (whole bool, cur int64, err error) {
	if u.Deferred && r.Header.Get("Content-Range") == "" {
		return true, 0, nil
	}
	if !rg.prefersPut() || r.ContentLength == 0 || r.Header.Get("Content-Range") != "" {
		return false, -1, nil
	}
	if cur, err = rg.uploadSize(r, u.ID); err != nil {
		return false, -1, err
	}
	return cur == 0, cur, nil
}

// uploadStatus serves GET on an upload session: how much has arrived.
func (rg *registry) uploadStatus(w http.ResponseWriter, r *http.Request, rt route) error {
	u, err := rg.session(r, rt)
	if err != nil {
		return err
	}
	if u.Deferred {
		writeUploadStatus(w, rt.name, u.ID, 0, http.StatusNoContent)
		return nil
	}
	size, err := rg.blobs.UploadSize(r.Context(), u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return errBlobUploadUnknown(u.ID)
	}
	if err != nil {
		return fmt.Errorf("upload size: %w", err)
	}
	writeUploadStatus(w, rt.name, u.ID, size, http.StatusNoContent)
	return nil
}

// cancelUpload serves DELETE on an upload session.
func (rg *registry) cancelUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	u, err := rg.session(r, rt)
	if err != nil {
		return err
	}
	// A deferred upload has nothing in the blob store (or, if a start
	// failed half way, state that the store's own cleanup removes).
	if !u.Deferred {
		if err := rg.blobs.CancelUpload(r.Context(), u.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("cancel upload: %w", err)
		}
	}
	if err := rg.meta.DeleteUpload(r.Context(), u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("forget upload: %w", err)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rangeHeader is the Range header of an upload status: the inclusive range
// received so far. For an empty upload it is "0-0", as Distribution sends.
func rangeHeader(size int64) string {
	return "0-" + strconv.FormatInt(max(size-1, 0), 10)
}

func writeUploadStatus(w http.ResponseWriter, name, id string, size int64, status int) {
	h := w.Header()
	h.Set("Location", uploadLocation(name, id))
	h.Set("Range", rangeHeader(size))
	h.Set("Docker-Upload-UUID", id)
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
}

func writeBlobCreated(w http.ResponseWriter, name string, d digest.Digest) {
	h := w.Header()
	h.Set("Location", blobLocation(name, d))
	h.Set("Docker-Content-Digest", string(d))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}
