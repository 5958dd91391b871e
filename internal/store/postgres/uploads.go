package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// uploadLockKey is the first key of the advisory locks CreateUpload takes
// on an owner and a repository ("upld"), so that replicas counting open
// uploads against UploadCaps at once cannot both insert the last one.
const uploadLockKey int32 = 0x75706c64

// CreateUpload implements store.Uploads. It fails if the id is taken. The
// upload does not make its repository exist. With caps, it holds the
// advisory locks of the owner and then the repository (always in that
// order) while it counts and inserts.
func (db *DB) CreateUpload(ctx context.Context, u store.Upload, caps store.UploadCaps) error {
	if u.ID == "" || u.Repository == "" {
		return errors.New("create upload: empty id or repository")
	}
	started, updated := rowcodec.UploadTimes(u)
	var err error
	if caps == (store.UploadCaps{}) {
		_, err = db.pool.Exec(ctx, sqlq.CreateUpload, u.ID, u.Repository, u.Owner, started, updated)
	} else {
		err = db.write(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2)), pg_advisory_xact_lock($1, hashtext($3))`,
				uploadLockKey, "owner:"+u.Owner, "repo:"+u.Repository); err != nil {
				return err
			}
			var owned, inRepo int64
			if err := tx.QueryRow(ctx, sqlq.CountUploads, u.Owner, u.Repository).Scan(&owned, &inRepo); err != nil {
				return err
			}
			if err := rowcodec.CheckUploadCaps(caps, u.Owner, owned, inRepo); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sqlq.CreateUpload, u.ID, u.Repository, u.Owner, started, updated)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("create upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload implements store.Uploads.
func (db *DB) GetUpload(ctx context.Context, id string) (*store.Upload, error) {
	u := &store.Upload{ID: id}
	var started, updated int64
	if err := db.pool.QueryRow(ctx, sqlq.GetUpload, id).Scan(&u.Repository, &u.Owner, &started, &updated); err != nil {
		return nil, fmt.Errorf("get upload %s: %w", id, notFound(err))
	}
	u.Started, u.Updated = rowcodec.FromNanos(started), rowcodec.FromNanos(updated)
	return u, nil
}

// TouchUpload implements store.Uploads.
func (db *DB) TouchUpload(ctx context.Context, id string, at time.Time) error {
	res, err := db.pool.Exec(ctx, sqlq.TouchUpload, id, rowcodec.Nanos(at))
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("touch upload %s: %w", id, err)
	}
	return nil
}

// DeleteUpload implements store.Uploads.
func (db *DB) DeleteUpload(ctx context.Context, id string) error {
	res, err := db.pool.Exec(ctx, sqlq.DeleteUpload, id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	return nil
}

// ExpiredUploads implements store.Uploads, oldest first.
func (db *DB) ExpiredUploads(ctx context.Context, before time.Time) ([]store.Upload, error) {
	rows, err := db.pool.Query(ctx, sqlq.ExpiredUploads, rowcodec.Nanos(before))
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
