package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
)

// CreateUpload implements store.Uploads. It fails if the id is taken. A
// zero u.Started means now. The upload does not make its repository exist.
func (s *Store) CreateUpload(ctx context.Context, u store.Upload) error {
	if u.ID == "" || u.Repository == "" {
		return errors.New("create upload: empty id or repository")
	}
	started := u.Started
	if started.IsZero() {
		started = time.Now()
	}
	if _, err := s.q.createUpload.ExecContext(ctx, u.ID, u.Repository, rowcodec.Nanos(started)); err != nil {
		return fmt.Errorf("create upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload implements store.Uploads.
func (s *Store) GetUpload(ctx context.Context, id string) (*store.Upload, error) {
	u := &store.Upload{ID: id}
	var started int64
	lctx, err := lookupCtx(ctx)
	if err == nil {
		err = s.q.getUpload.QueryRowContext(lctx, id).Scan(&u.Repository, &started)
	}
	if err != nil {
		return nil, fmt.Errorf("get upload %s: %w", id, notFound(err))
	}
	u.Started = rowcodec.FromNanos(started)
	return u, nil
}

// DeleteUpload implements store.Uploads.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	res, err := s.q.deleteUpload.ExecContext(ctx, id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	return nil
}

// ExpiredUploads implements store.Uploads, oldest first.
func (s *Store) ExpiredUploads(ctx context.Context, before time.Time) ([]store.Upload, error) {
	rows, err := s.q.expiredUploads.QueryContext(ctx, rowcodec.Nanos(before))
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	defer rows.Close()
	out, err := rowcodec.Collect(rows, rowcodec.Upload)
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	return out, nil
}
