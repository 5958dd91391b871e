package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// CreateUpload implements store.Uploads. It fails if the id is taken. The
// upload does not make its repository exist. With caps, the count and the
// insert share one transaction, serialized with concurrent creations by
// the single writer or Dialect.LockUploads. Uploads are not cached, so
// unlike other writes it leaves the read cache alone.
func (s *Store) CreateUpload(ctx context.Context, u store.Upload, caps store.UploadCaps) error {
	if u.ID == "" || u.Repository == "" {
		return errors.New("create upload: empty id or repository")
	}
	started, updated := uploadTimes(u)
	args := []any{u.ID, u.Repository, u.Owner, started, updated, boolInt(u.Deferred)}
	var err error
	if caps == (store.UploadCaps{}) {
		_, err = s.run(ctx, nil, createUpload).ExecContext(ctx, args...)
	} else {
		err = s.inLaxTx(ctx, func(tx Conn) error {
			if s.d.LockUploads != nil {
				if err := s.d.LockUploads(ctx, tx, "owner:"+u.Owner, "repo:"+u.Repository); err != nil {
					return err
				}
			}
			// Count and insert in one statement; only a refusal counts
			// again, to say which cap.
			n, err := affected(s.run(ctx, tx, createUploadCapped).ExecContext(ctx, append(args, caps.PerOwner, caps.PerRepository)...))
			if err != nil || n == 1 {
				return err
			}
			var owned, inRepo int64
			if err := s.run(ctx, tx, countUploads).QueryRowContext(ctx, u.Owner, u.Repository).Scan(&owned, &inRepo); err != nil {
				return err
			}
			if err := checkUploadCaps(caps, u.Owner, owned, inRepo); err != nil {
				return err
			}
			return fmt.Errorf("%w: %d open for the principal, %d in the repository", store.ErrTooManyUploads, owned, inRepo)
		})
	}
	if err != nil {
		return fmt.Errorf("create upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload implements store.Uploads.
func (s *Store) GetUpload(ctx context.Context, id string) (*store.Upload, error) {
	u := &store.Upload{ID: id}
	var started, updated, deferred int64
	lctx, err := s.lookupCtx(ctx)
	if err == nil {
		err = s.run(lctx, nil, getUpload).QueryRowContext(lctx, id).Scan(&u.Repository, &u.Owner, &started, &updated, &deferred)
	}
	if err != nil {
		return nil, fmt.Errorf("get upload %s: %w", id, notFound(err))
	}
	u.Started, u.Updated = fromNanos(started), fromNanos(updated)
	u.Deferred = deferred != 0
	return u, nil
}

// TouchUpload implements store.Uploads.
func (s *Store) TouchUpload(ctx context.Context, id string, at time.Time) error {
	if err := s.execOne(ctx, touchUpload, id, nanos(at)); err != nil {
		return fmt.Errorf("touch upload %s: %w", id, err)
	}
	return nil
}

// StartedUpload implements store.Uploads.
func (s *Store) StartedUpload(ctx context.Context, id string) error {
	if err := s.execOne(ctx, startedUpload, id); err != nil {
		return fmt.Errorf("record upload %s started: %w", id, err)
	}
	return nil
}

// DeleteUpload implements store.Uploads.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	if err := s.execOne(ctx, deleteUpload, id); err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	return nil
}

// ExpiredUploads implements store.Uploads, oldest first.
func (s *Store) ExpiredUploads(ctx context.Context, before time.Time) ([]store.Upload, error) {
	out, err := collect(ctx, s.run(ctx, nil, expiredUploads), scanUpload, nanos(before))
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	return out, nil
}

// execOne runs a write q outside a transaction and returns
// store.ErrNotFound when it changed no row.
func (s *Store) execOne(ctx context.Context, q query, args ...any) error {
	res, err := s.run(ctx, nil, q).ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	return affectedOne(res)
}
