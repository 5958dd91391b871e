package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
)

// CreateUpload implements store.Uploads. It fails if the id is taken. The
// upload does not make its repository exist. With caps, the count and the
// insert share one transaction on the single writer connection, so they
// are serialized with every other write; uploads are not cached, so unlike
// write it leaves the read cache alone.
func (s *Store) CreateUpload(ctx context.Context, u store.Upload, caps store.UploadCaps) error {
	if u.ID == "" || u.Repository == "" {
		return errors.New("create upload: empty id or repository")
	}
	started, updated := rowcodec.UploadTimes(u)
	args := []any{u.ID, u.Repository, u.Owner, started, updated}
	if caps == (store.UploadCaps{}) {
		if _, err := s.q.createUpload.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("create upload %s: %w", u.ID, err)
		}
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err == nil {
		err = func() error {
			var owned, inRepo int64
			if err := tx.StmtContext(ctx, s.q.countUploads).QueryRowContext(ctx, u.Owner, u.Repository).Scan(&owned, &inRepo); err != nil {
				return err
			}
			if err := rowcodec.CheckUploadCaps(caps, u.Owner, owned, inRepo); err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, s.q.createUpload).ExecContext(ctx, args...); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			_ = tx.Rollback()
		}
	}
	if err != nil {
		return fmt.Errorf("create upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload implements store.Uploads.
func (s *Store) GetUpload(ctx context.Context, id string) (*store.Upload, error) {
	u := &store.Upload{ID: id}
	var started, updated int64
	lctx, err := lookupCtx(ctx)
	if err == nil {
		err = s.q.getUpload.QueryRowContext(lctx, id).Scan(&u.Repository, &u.Owner, &started, &updated)
	}
	if err != nil {
		return nil, fmt.Errorf("get upload %s: %w", id, notFound(err))
	}
	u.Started, u.Updated = rowcodec.FromNanos(started), rowcodec.FromNanos(updated)
	return u, nil
}

// TouchUpload implements store.Uploads.
func (s *Store) TouchUpload(ctx context.Context, id string, at time.Time) error {
	res, err := s.q.touchUpload.ExecContext(ctx, id, rowcodec.Nanos(at))
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("touch upload %s: %w", id, err)
	}
	return nil
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
