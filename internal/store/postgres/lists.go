package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// Tags implements store.Lists. Names sort by bytes (the columns are
// COLLATE "C"). A repository exists from its first blob link or manifest
// on, and keeps existing when they are gone: ErrNotFound means the name
// was never used, and a repository without tags yields an empty list.
// n <= 0 returns an empty list.
func (db *DB) Tags(ctx context.Context, repo, last string, n int) ([]string, error) {
	rows, err := db.pool.Query(ctx, sqlq.Tags, repo, last, max(n, 1))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("list tags of %s: %w", repo, store.ErrNotFound)
	}
	tags := []string{}
	for _, name := range names {
		if name != nil && n > 0 {
			tags = append(tags, *name)
		}
	}
	return tags, nil
}

// Repositories implements store.Lists. It lists the repositories that hold
// at least one manifest or blob, names sorted by bytes. n <= 0 returns an
// empty list.
func (db *DB) Repositories(ctx context.Context, last string, n int) ([]string, error) {
	if n <= 0 {
		return []string{}, nil
	}
	names, err := db.queryStrings(ctx, sqlq.Repositories, last, n)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	return names, nil
}

// Referrers implements store.Lists, in digest order. An unknown repository
// or subject yields an empty list, as the referrers API answers one.
func (db *DB) Referrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]store.Descriptor, error) {
	if subject == "" {
		return []store.Descriptor{}, nil
	}
	var rows pgx.Rows
	var err error
	if artifactType == "" {
		rows, err = db.pool.Query(ctx, sqlq.Referrers, repo, subject.String())
	} else {
		rows, err = db.pool.Query(ctx, sqlq.ReferrersByType, repo, subject.String(), artifactType)
	}
	if err != nil {
		return nil, fmt.Errorf("referrers of %s@%s: %w", repo, subject, err)
	}
	defer rows.Close()
	out, err := rowcodec.Collect(rows, rowcodec.Referrer)
	if err != nil {
		return nil, fmt.Errorf("referrers of %s@%s: %w", repo, subject, err)
	}
	return out, nil
}
