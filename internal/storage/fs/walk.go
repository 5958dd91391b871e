package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

var _ storage.Walker = (*Store)(nil)

// WalkBlobs implements storage.Walker. It reads blobs/<alg>/<xx>/ one
// directory at a time, so memory stays bounded by the largest prefix
// directory, and skips anything that is not a valid blob path (a file
// deleted meanwhile, a stray name).
func (s *Store) WalkBlobs(ctx context.Context, fn func(dgst digest.Digest, size int64, modified time.Time) error) error {
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		algDir := s.path(blobsDir, alg.String())
		prefixes, err := os.ReadDir(algDir)
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, p := range prefixes {
			if !p.IsDir() {
				continue
			}
			if err := s.walkPrefix(ctx, alg, filepath.Join(algDir, p.Name()), p.Name(), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) walkPrefix(ctx context.Context, alg digest.Algorithm, dir, prefix string, fn func(digest.Digest, int64, time.Time) error) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("walk blobs: %w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		dgst := digest.NewDigestFromEncoded(alg, e.Name())
		if storage.CheckDigest(dgst) != nil || e.Name()[:2] != prefix {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if err := fn(dgst, fi.Size(), fi.ModTime()); err != nil {
			return err
		}
	}
	return nil
}
