package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
)

// Tags implements store.Lists. Names sort by bytes. A repository exists
// from its first blob link or manifest on, and keeps existing when they
// are gone: ErrNotFound means the name was never used, and a repository
// without tags yields an empty list. n <= 0 returns an empty list.
func (s *Store) Tags(ctx context.Context, repo, last string, n int) ([]string, error) {
	rows, err := s.q.tags.QueryContext(ctx, repo, last, max(n, 1))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	defer rows.Close()
	tags := []string{}
	found := false
	for rows.Next() {
		found = true
		var tag sql.NullString
		if err := rows.Scan(&tag); err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", repo, err)
		}
		if tag.Valid && n > 0 {
			tags = append(tags, tag.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	if !found {
		return nil, fmt.Errorf("list tags of %s: %w", repo, store.ErrNotFound)
	}
	return tags, nil
}

// Repositories implements store.Lists. It lists the repositories that hold
// at least one manifest or blob, names sorted by bytes. n <= 0 returns an
// empty list.
func (s *Store) Repositories(ctx context.Context, last string, n int) ([]string, error) {
	if n <= 0 {
		return []string{}, nil
	}
	names, err := s.queryStrings(ctx, s.q.repositories, last, n)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	return names, nil
}

// Referrers implements store.Lists, in digest order. An unknown repository
// or subject yields an empty list, as the referrers API answers one.
func (s *Store) Referrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]store.Descriptor, error) {
	if subject == "" {
		return []store.Descriptor{}, nil
	}
	var rows *sql.Rows
	var err error
	if artifactType == "" {
		rows, err = s.q.referrers.QueryContext(ctx, repo, subject.String())
	} else {
		rows, err = s.q.referrersByType.QueryContext(ctx, repo, subject.String(), artifactType)
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
