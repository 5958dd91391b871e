package fs

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

var _ storage.Quarantiner = (*Store)(nil)

// Quarantine implements storage.Quarantiner: the blob's file is renamed
// into root/quarantine, as <algorithm>-<hex>-<unix nanoseconds>, so that
// the blob is missing until it is put again and the bytes stay for
// inspection.
func (s *Store) Quarantine(ctx context.Context, dgst digest.Digest) (string, error) {
	p, err := s.blobPath(dgst)
	if err != nil {
		return "", fmt.Errorf("quarantine blob: %w", err)
	}
	if err := os.MkdirAll(s.path(quarantineDir), dirPerm); err != nil {
		return "", fmt.Errorf("quarantine blob %s: %w", dgst, err)
	}
	// A Put of the same digest renames a verified copy into place: if it
	// comes after this rename, the blob is whole again; if before, this
	// sets aside a good copy, which the next check would have found
	// sound, and the blob is missing until it is pushed again.
	dst := s.path(quarantineDir, dgst.Algorithm().String()+"-"+dgst.Encoded()+"-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(p, dst); err != nil {
		return "", fmt.Errorf("quarantine blob %s: %w", dgst, notFound(err))
	}
	if err := s.syncDir(s.path(quarantineDir)); err != nil {
		return dst, fmt.Errorf("quarantine blob %s: %w", dgst, err)
	}
	return dst, nil
}
