// Package registry implements the OCI Distribution Specification v1.1 HTTP
// API on top of a blob store (package storage) and a metadata store (package
// store). It never prints; it logs through an injected *slog.Logger.
package registry

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/store"
)

// Option configures a registry built by New.
type Option func(*registry)

// WithBlobStore sets where blob bytes and uploads live. Required.
func WithBlobStore(s storage.Store) Option { return func(r *registry) { r.blobs = s } }

// WithMetadata sets the metadata store. Required.
func WithMetadata(s Metadata) Option { return func(r *registry) { r.meta = s } }

// WithLogger sets the logger for errors the client does not see.
func WithLogger(l *slog.Logger) Option { return func(r *registry) { r.log = l } }

// BlobURLFunc returns a URL a client may download the blob dgst of repo
// from directly (a presigned object-store URL, a CDN), or "" to have the
// registry stream it. It is called only after the request was authorized
// to pull from repo and the blob was found linked there.
type BlobURLFunc func(r *http.Request, repo string, dgst digest.Digest) (string, error)

// WithBlobURL makes whole-blob GETs answer 307 Temporary Redirect to the
// URL f returns, so blob bytes need not pass through the registry. Ranged
// GETs, HEADs, an empty URL and any error from f are served as before.
func WithBlobURL(f BlobURLFunc) Option { return func(r *registry) { r.blobURL = f } }

// WithUploadCaps caps the upload sessions open at once per principal and
// per repository; past a cap, starting one is answered 429 TOOMANYREQUESTS.
// Default: no caps.
func WithUploadCaps(c store.UploadCaps) Option { return func(r *registry) { r.uploadCaps = c } }

// WithBlobsCheckedAtRest says the blob store's bytes are checked at rest
// (`registry fsck` and the server's scrub, which quarantine a blob that no
// longer matches its digest) rather than on every read. While checked
// reports true, a whole-blob GET sends the stored bytes as they are, which
// the filesystem store does with sendfile, instead of hashing every byte
// on the way; it reports false after a crash that may have left blobs
// unchecked, until they have all been checked again. A HEAD looks for the
// bytes too, so that a quarantined blob is missing to a client, which
// pushes it again. Without the option, every whole-blob GET is hashed.
func WithBlobsCheckedAtRest(checked func() bool) Option {
	return func(r *registry) { r.checkedAtRest = checked }
}

// WithClock sets the clock uploads are stamped with, for tests.
func WithClock(now func() time.Time) Option { return func(r *registry) { r.now = now } }

type registry struct {
	blobs      storage.Store
	meta       Metadata
	log        *slog.Logger
	authz      Authorizer
	blobURL    BlobURLFunc
	uploadCaps store.UploadCaps
	events     Events
	history    TagHistory
	now        func() time.Time
	// checkedAtRest: WithBlobsCheckedAtRest; nil without it.
	checkedAtRest func() bool
}

// New returns the /v2/ API as an http.Handler. It serves only paths under
// /v2/; the caller mounts health, metrics and auth endpoints beside it.
func New(opts ...Option) (http.Handler, error) {
	r := &registry{log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if r.blobs == nil || r.meta == nil {
		return nil, errors.New("registry: a blob store and a metadata store are required")
	}
	return http.HandlerFunc(r.serveHTTP), nil
}
