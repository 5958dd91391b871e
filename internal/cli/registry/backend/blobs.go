package backend

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/storage"
)

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
