package backend

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/storage/s3"
)

// OpenStorage opens the blob store st names.
func OpenStorage(ctx context.Context, st config.Storage, log *slog.Logger) (storage.Store, error) {
	switch st.Type {
	case config.StorageFile:
		s, err := fs.New(st.Path, fs.WithLogger(log), fs.WithSync(st.Sync))
		if err != nil {
			return nil, fmt.Errorf("open blob storage: %w", err)
		}
		return s, nil
	case config.StorageS3:
		cfg, err := s3.ParseURL(st.URL)
		if err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		s, err := s3.New(ctx, cfg, s3.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open blob storage: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("storage type %q is not supported", st.Type)
}

// presigner is a blob store that hands out time-limited download URLs.
type presigner interface {
	Presign(ctx context.Context, dgst digest.Digest, ttl time.Duration) (string, error)
}

// objectKeyer is a blob store that can name a blob's object in its bucket.
type objectKeyer interface {
	ObjectKey(dgst digest.Digest) (string, error)
}

// BlobURL returns the registry's redirect for whole-blob GETs under cfg,
// or nil to stream every blob (proxy). publicPull reports whether
// anonymous users may pull a repository: only those are redirected to the
// public URL, others get a presigned one.
func BlobURL(cfg config.Blobs, blobs storage.Store, publicPull func(repo string) bool) (registry.BlobURLFunc, error) {
	if cfg.Redirect == "" || cfg.Redirect == config.RedirectProxy {
		return nil, nil
	}
	p, ok := blobs.(presigner)
	if !ok {
		return nil, fmt.Errorf("%s %s: this storage cannot presign URLs", config.KeyBlobRedirect, cfg.Redirect)
	}
	presign := func(r *http.Request, _ string, dgst digest.Digest) (string, error) {
		return p.Presign(r.Context(), dgst, cfg.PresignTTL)
	}
	if cfg.Redirect == config.RedirectPresign {
		return presign, nil
	}
	k, ok := blobs.(objectKeyer)
	if !ok {
		return nil, fmt.Errorf("%s public: this storage cannot name its objects", config.KeyBlobRedirect)
	}
	return func(r *http.Request, repo string, dgst digest.Digest) (string, error) {
		if !publicPull(repo) {
			return presign(r, repo, dgst)
		}
		key, err := k.ObjectKey(dgst)
		if err != nil {
			return "", err
		}
		return cfg.PublicURL + "/" + key, nil
	}, nil
}
