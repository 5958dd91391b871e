package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/store"
)

// uploadSessions is what PurgeUploads needs of the metadata store.
type uploadSessions interface {
	ExpiredUploads(ctx context.Context, before time.Time) ([]store.Upload, error)
	DeleteUpload(ctx context.Context, id string) error
}

// PurgeUploads discards upload sessions with no activity (a start, a
// chunk) since the given time, bytes and record both, and returns how many
// it removed. Clients abandon
// uploads (a killed docker push); without this their bytes would stay on
// disk for ever. The caller runs it periodically.
func PurgeUploads(ctx context.Context, uploads storage.UploadStore, meta uploadSessions, before time.Time) (int, error) {
	expired, err := meta.ExpiredUploads(ctx, before)
	if err != nil {
		return 0, fmt.Errorf("list expired uploads: %w", err)
	}
	n := 0
	for _, u := range expired {
		if err := uploads.CancelUpload(ctx, u.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, fmt.Errorf("discard upload %s: %w", u.ID, err)
		}
		if err := meta.DeleteUpload(ctx, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, fmt.Errorf("forget upload %s: %w", u.ID, err)
		}
		n++
	}
	return n, nil
}
