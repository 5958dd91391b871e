package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Tags implements store.Lists. Names sort by bytes (PostgreSQL's
// columns are COLLATE "C"). A repository exists from its first blob link
// or manifest on, and keeps existing when they are gone: ErrNotFound
// means the name was never used, and a repository without tags yields an
// empty list. n <= 0 returns an empty list. With the read cache, a page
// asked for again is answered from memory until the next write, and the
// slice returned is shared with the cache.
func (s *Store) Tags(ctx context.Context, repo, last string, n int) ([]string, error) {
	s.cacheCheck(ctx)
	if tags, ok := s.cache.tagPage(repo, last, n); ok {
		return tags, nil
	}
	gen := s.cache.generation()
	// Rows are scanned straight into the result, which is sized for n up
	// front: a list is up to a thousand rows, the tags API's largest page,
	// and an intermediate slice of rows cost a tenth of the request.
	rows, err := s.run(ctx, nil, tags).QueryContext(ctx, repo, last, max(n, 1))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	defer rows.Close()
	out := make([]string, 0, min(max(n, 0), 1000))
	found := false
	var tag sql.NullString
	for rows.Next() {
		found = true
		if err := rows.Scan(&tag); err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", repo, err)
		}
		if tag.Valid && n > 0 {
			out = append(out, tag.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	if !found {
		return nil, fmt.Errorf("list tags of %s: %w", repo, store.ErrNotFound)
	}
	out = slices.Clip(out) // an append by a caller must not reach the cache's copy
	s.cache.putTagPage(gen, repo, last, n, out)
	return out, nil
}

// Repositories implements store.Lists. It lists the repositories that hold
// at least one manifest or blob, names sorted by bytes. n <= 0 returns an
// empty list.
func (s *Store) Repositories(ctx context.Context, last string, n int) ([]string, error) {
	if n <= 0 {
		return []string{}, nil
	}
	names, err := collect(ctx, s.run(ctx, nil, repositories), scanString, last, n)
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
	var out []store.Descriptor
	var err error
	if artifactType == "" {
		out, err = collect(ctx, s.run(ctx, nil, referrers), scanReferrer, repo, subject.String())
	} else {
		out, err = collect(ctx, s.run(ctx, nil, referrersByType), scanReferrer, repo, subject.String(), artifactType)
	}
	if err != nil {
		return nil, fmt.Errorf("referrers of %s@%s: %w", repo, subject, err)
	}
	return out, nil
}
