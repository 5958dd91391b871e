package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/rowcodec"
)

// PutManifest implements store.Manifests. The manifest, its repository (on
// first use) and the tag are written in one transaction: on error nothing
// is. Putting a manifest the repository already holds keeps its creation
// time and refreshes the other fields. A zero m.Created means now.
func (s *Store) PutManifest(ctx context.Context, m *store.Manifest, tag string) (digest.Digest, error) {
	now := time.Now()
	row, err := rowcodec.EncodeManifest(m, now)
	if err != nil {
		return "", err
	}
	annotations, blobs, children, created, content := row.Annotations, row.Blobs, row.Children, row.Created, row.Content

	var previous string
	err = s.write(ctx, func(tx *sql.Tx) error {
		id, err := s.ensureRepo(ctx, tx, m.Repository)
		if err != nil {
			return err
		}
		if err := s.checkRefs(ctx, tx, id, m, rowcodec.Nanos(now)); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, s.q.putManifest).ExecContext(ctx,
			id, m.Digest.String(), m.MediaType, m.ArtifactType, m.Subject.String(),
			m.Size, content, annotations, blobs, children, rowcodec.Nanos(created)); err != nil {
			return err
		}
		if err := s.insertRefs(ctx, tx, id, m); err != nil {
			return err
		}
		if tag == "" {
			return nil
		}
		err = tx.StmtContext(ctx, s.q.getTag).QueryRowContext(ctx, id, tag).Scan(&previous)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read tag %s: %w", tag, err)
		}
		if _, err := tx.StmtContext(ctx, s.q.putTag).ExecContext(ctx,
			id, tag, m.Digest.String(), rowcodec.Nanos(now)); err != nil {
			return fmt.Errorf("tag %s: %w", tag, err)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("put manifest %s@%s: %w", m.Repository, m.Digest, err)
	}
	return digest.Digest(previous), nil
}

// checkRefs touches the links of m's blobs and checks that m's children
// are stored, in the transaction that stores m: garbage collection, which
// writes through the same single writer, sees either the touch or the
// manifest, never neither.
func (s *Store) checkRefs(ctx context.Context, tx *sql.Tx, repoID int64, m *store.Manifest, now int64) error {
	touch := tx.StmtContext(ctx, s.q.touchBlob)
	for _, d := range m.Blobs {
		res, err := touch.ExecContext(ctx, repoID, d.String(), now)
		if err != nil {
			return fmt.Errorf("touch blob %s: %w", d, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(fmt.Errorf("blob %s: %w", d, store.ErrBlobUnknown), err)
		}
	}
	exists := tx.StmtContext(ctx, s.q.manifestExists)
	for _, d := range m.Children {
		var one int
		err := exists.QueryRowContext(ctx, repoID, d.String()).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("manifest %s: %w", d, store.ErrBlobUnknown)
		}
		if err != nil {
			return fmt.Errorf("child manifest %s: %w", d, err)
		}
	}
	return nil
}

// insertRefs records m's blobs and children in manifest_refs.
func (s *Store) insertRefs(ctx context.Context, tx *sql.Tx, repoID int64, m *store.Manifest) error {
	ins := tx.StmtContext(ctx, s.q.insertRef)
	for kind, ds := range [][]digest.Digest{refBlob: m.Blobs, refChild: m.Children} {
		for _, d := range ds {
			if _, err := ins.ExecContext(ctx, repoID, m.Digest.String(), kind, d.String()); err != nil {
				return fmt.Errorf("record reference %s: %w", d, err)
			}
		}
	}
	return nil
}

// GetManifest implements store.Manifests.
// The manifest returned may be shared with the store's cache: callers must
// not modify its slices or map.
func (s *Store) GetManifest(ctx context.Context, repo string, dgst digest.Digest) (*store.Manifest, error) {
	s.cacheCheck(ctx)
	if m, ok := s.cache.manifest(repo, dgst); ok {
		return m, nil
	}
	gen := s.cache.generation()
	m := &store.Manifest{Repository: repo, Digest: dgst}
	var subject, annotations, blobs, children string
	var created int64
	lctx, err := lookupCtx(ctx)
	if err == nil {
		err = s.q.getManifest.QueryRowContext(lctx, repo, dgst.String()).Scan(
			&m.MediaType, &m.ArtifactType, &subject, &m.Size, &m.Content,
			&annotations, &blobs, &children, &created)
	}
	if err == nil {
		err = rowcodec.DecodeJSON(annotations, &m.Annotations)
		m.Blobs = rowcodec.DecodeDigests(blobs)
		m.Children = rowcodec.DecodeDigests(children)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest %s@%s: %w", repo, dgst, notFound(err))
	}
	m.Subject = digest.Digest(subject)
	m.Created = rowcodec.FromNanos(created)
	s.cache.putManifest(gen, m)
	return m, nil
}

// GetTaggedManifest implements store.Manifests: two lookups, both
// answered by the read cache when hot.
func (s *Store) GetTaggedManifest(ctx context.Context, repo, tag string) (*store.Manifest, error) {
	d, err := s.ResolveTag(ctx, repo, tag)
	if err != nil {
		return nil, err
	}
	return s.GetManifest(ctx, repo, d)
}

// ResolveTag implements store.Manifests.
func (s *Store) ResolveTag(ctx context.Context, repo, tag string) (digest.Digest, error) {
	s.cacheCheck(ctx)
	if d, ok := s.cache.tag(repo, tag); ok {
		return d, nil
	}
	gen := s.cache.generation()
	var d string
	lctx, err := lookupCtx(ctx)
	if err == nil {
		err = s.q.resolveTag.QueryRowContext(lctx, repo, tag).Scan(&d)
	}
	if err != nil {
		return "", fmt.Errorf("resolve tag %s:%s: %w", repo, tag, notFound(err))
	}
	s.cache.putTag(gen, repo, tag, digest.Digest(d))
	return digest.Digest(d), nil
}

// DeleteManifest implements store.Manifests. The manifest and its tags go
// in one transaction.
func (s *Store) DeleteManifest(ctx context.Context, repo string, dgst digest.Digest) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := s.repoID(ctx, tx, repo)
		if err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, s.q.deleteManifestTags).ExecContext(ctx, id, dgst.String()); err != nil {
			return err
		}
		res, err := tx.StmtContext(ctx, s.q.deleteManifest).ExecContext(ctx, id, dgst.String())
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("delete manifest %s@%s: %w", repo, dgst, err)
	}
	return nil
}

// DeleteTag implements store.Manifests. The manifest stays.
func (s *Store) DeleteTag(ctx context.Context, repo, tag string) error {
	defer s.cache.invalidate()
	res, err := s.q.deleteTag.ExecContext(ctx, repo, tag)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("delete tag %s:%s: %w", repo, tag, err)
	}
	return nil
}
