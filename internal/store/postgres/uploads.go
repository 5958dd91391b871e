package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// CreateUpload implements store.Uploads. It fails if the id is taken. A
// zero u.Started means now. The upload does not make its repository exist.
func (db *DB) CreateUpload(ctx context.Context, u store.Upload) error {
	if u.ID == "" || u.Repository == "" {
		return errors.New("create upload: empty id or repository")
	}
	started := u.Started
	if started.IsZero() {
		started = time.Now()
	}
	if _, err := db.pool.Exec(ctx, sqlq.CreateUpload, u.ID, u.Repository, rowcodec.Nanos(started)); err != nil {
		return fmt.Errorf("create upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload implements store.Uploads.
func (db *DB) GetUpload(ctx context.Context, id string) (*store.Upload, error) {
	u := &store.Upload{ID: id}
	var started int64
	if err := db.pool.QueryRow(ctx, sqlq.GetUpload, id).Scan(&u.Repository, &started); err != nil {
		return nil, fmt.Errorf("get upload %s: %w", id, notFound(err))
	}
	u.Started = rowcodec.FromNanos(started)
	return u, nil
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
