package registry

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// clientFault is an error that is the client's doing, not the registry's:
// a request body that ended early, broke off, stalled or trickled
// (server.BodyError). It is answered 400 (408 when Timeout reports true),
// logged below ERROR and counted as a client error.
type clientFault interface {
	error
	ClientFault() bool
}

// clientBody marks every failed read of a request body as a clientFault,
// so that a store's "write upload: unexpected EOF" is not mistaken for the
// registry's own failure, whatever server runs the handler.
type clientBody struct{ io.ReadCloser }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		var cf clientFault
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &cf) && !errors.As(err, &tooLarge) {
			err = bodyReadError{err}
		}
	}
	return n, err
}

// bodyReadError is a read error of a request body, the client's fault.
type bodyReadError struct{ err error }

func (e bodyReadError) Error() string     { return "request body: " + e.err.Error() }
func (e bodyReadError) Unwrap() error     { return e.err }
func (e bodyReadError) ClientFault() bool { return true }

// bodyFailed is the response to a request whose body failed on the
// client's side: 408 if it stalled or came too slowly, else 400, with the
// code of the route (a manifest, or a blob upload). The connection is
// closed, since the rest of the body will not come or cannot be trusted.
func bodyFailed(rt route, cf clientFault) *Error {
	status, msg := http.StatusBadRequest, "the request body ended early or broke off"
	var timeout interface{ Timeout() bool }
	if errors.As(cf, &timeout) && timeout.Timeout() {
		status, msg = http.StatusRequestTimeout, "the request body stalled or arrived too slowly"
	}
	code := "BLOB_UPLOAD_INVALID"
	if rt.kind == RouteManifest {
		code = "MANIFEST_INVALID"
	}
	e := newError(status, code, msg, nil)
	e.Header = http.Header{"Connection": {"close"}}
	return e
}

// uploadTouchEvery is how often an upload being written records its
// activity in the metadata store: uploads expire by their last activity,
// and a write per chunk (or per read of a long chunk) would cost more than
// the precision is worth. The upload TTL is far longer (at least 10m).
const uploadTouchEvery = time.Minute

// keepAlive records activity on upload u: now, unless that was done less
// than uploadTouchEvery ago, and then every uploadTouchEvery while the
// request body streams in, so that a chunk that takes longer than the
// upload TTL (hours on a slow link) is never purged under its client.
func (rg *registry) keepAlive(r *http.Request, u *store.Upload) {
	ctx := r.Context()
	touch := func(at time.Time) {
		if err := rg.meta.TouchUpload(ctx, u.ID, at); err != nil && !errors.Is(err, store.ErrNotFound) {
			rg.log.WarnContext(ctx, "record upload activity", "upload", u.ID, "err", err)
		}
	}
	last := u.Updated
	if now := rg.now(); now.Sub(last) >= uploadTouchEvery {
		touch(now)
		last = now
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &activityBody{ReadCloser: r.Body, last: last, now: rg.now, touch: touch}
	}
}

// activityBody calls touch every uploadTouchEvery while bytes arrive.
type activityBody struct {
	io.ReadCloser
	last  time.Time
	now   func() time.Time
	touch func(time.Time)
}

func (b *activityBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		if now := b.now(); now.Sub(b.last) >= uploadTouchEvery {
			b.touch(now)
			b.last = now
		}
	}
	return n, err
}
