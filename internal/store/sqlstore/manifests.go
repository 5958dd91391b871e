package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Kinds of manifest_refs rows.
const (
	refBlob  = 0
	refChild = 1
)

// PutManifest implements store.Manifests. The manifest, its repository (on
// first use) and the tag are written in one transaction: on error nothing
// is, and a tag never names a manifest that is not committed. Writers
// moving the same tag at once are ordered by the tag's row (locked with
// Dialect.ForUpdate, or the single writer), so each sees as previous the
// digest it replaced. Putting a manifest the repository already holds
// keeps its creation time and refreshes the other fields. A zero
// m.Created means now. Each of also runs in the same transaction after
// the manifest and tag (see store.TxFunc).
func (s *Store) PutManifest(ctx context.Context, m *store.Manifest, tag string, also ...store.TxFunc) (digest.Digest, error) {
	now := time.Now()
	row, err := encodeManifest(m, now)
	if err != nil {
		return "", err
	}
	var previous string
	err = s.write(ctx, func(tx Conn) error {
		previous = ""
		id, err := s.ensureRepo(ctx, tx, m.Repository)
		if err != nil {
			return err
		}
		// Touch and lock what m references before m itself, as
		// CollectManifest locks a manifest before looking for referrers.
		if err := s.checkRefs(ctx, tx, id, m, nanos(now)); err != nil {
			return err
		}
		if _, err := s.run(ctx, tx, putManifest).ExecContext(ctx,
			id, m.Digest.String(), m.MediaType, m.ArtifactType, m.Subject.String(),
			m.Size, row.Content, row.Annotations, row.Blobs, row.Children, nanos(row.Created)); err != nil {
			return err
		}
		if err := s.insertRefs(ctx, tx, id, m); err != nil {
			return s.retryOnForeignKey(err)
		}
		if tag != "" {
			previous, err = s.moveTag(ctx, tx, id, tag, m.Digest.String(), nanos(now))
			if err != nil {
				return s.retryOnForeignKey(fmt.Errorf("tag %s: %w", tag, err))
			}
		}
		return s.runAlso(ctx, tx, also, store.Written{Previous: digest.Digest(previous)})
	})
	if err != nil {
		return "", fmt.Errorf("put manifest %s@%s: %w", m.Repository, m.Digest, err)
	}
	return digest.Digest(previous), nil
}

// checkRefs touches the links of m's blobs and checks (share-locking,
// where the dialect locks rows) that m's children are stored, failing with
// store.ErrBlobUnknown if one is missing, in the transaction that stores
// m: a concurrent CollectBlobLink or CollectManifest either waits for it
// and sees the manifest it stores, or commits first and this one sees
// their deletion.
func (s *Store) checkRefs(ctx context.Context, tx Conn, repoID int64, m *store.Manifest, now int64) error {
	// One statement for up to rowsPerStatement blobs, naming them in
	// digest order: PostgreSQL's index scan of the list visits (and locks)
	// them in that order, so two pushes sharing blobs lock them alike and
	// do not deadlock (and if a plan ever did otherwise, the deadlock is
	// retried).
	blobs := slices.Compact(slices.Sorted(slices.Values(m.Blobs)))
	for chunk := range slices.Chunk(blobs, rowsPerStatement) {
		args := digestArgs(chunk, now, repoID)
		q := "UPDATE blob_links SET touched = " + param(s.d, 1) + " WHERE repo_id = " + param(s.d, 2) +
			" AND digest IN (" + params(s.d, 3, len(chunk)) + ")"
		n, err := affected(tx.ExecContext(ctx, q, args...))
		if err != nil {
			return fmt.Errorf("touch blobs: %w", err)
		}
		if n != int64(len(chunk)) {
			if err := s.touchEach(ctx, tx, repoID, chunk, now); err != nil {
				return err
			}
		}
	}
	exists := s.run(ctx, tx, lockChild)
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

// rowsPerStatement bounds the rows one statement the store builds at run
// time inserts or names (a manifest's references): 4 parameters a row
// stay far below SQLite's 32766 and PostgreSQL's 65535.
const rowsPerStatement = 256

// digestArgs is the arguments of a statement whose parameters are lead and
// then an IN list of ds.
func digestArgs(ds []digest.Digest, lead ...any) []any {
	args := append(make([]any, 0, len(lead)+len(ds)), lead...)
	for _, d := range ds {
		args = append(args, d.String())
	}
	return args
}

// touchEach touches blobs one by one, after touching them together found
// some not linked in repository repoID, to name the first missing one in
// store.ErrBlobUnknown. It returns nil if all are linked by now (a link
// committed meanwhile).
func (s *Store) touchEach(ctx context.Context, tx Conn, repoID int64, blobs []digest.Digest, now int64) error {
	touch := s.run(ctx, tx, touchBlob)
	for _, d := range blobs {
		n, err := affected(touch.ExecContext(ctx, repoID, d.String(), now))
		if err != nil {
			return fmt.Errorf("touch blob %s: %w", d, err)
		}
		if n == 0 {
			return fmt.Errorf("blob %s: %w", d, store.ErrBlobUnknown)
		}
	}
	return nil
}

// insertRefs records m's blobs and children in manifest_refs, in one
// multi-row insert (a round trip, on PostgreSQL) for up to
// rowsPerStatement of them.
func (s *Store) insertRefs(ctx context.Context, tx Conn, repoID int64, m *store.Manifest) error {
	args := make([]any, 0, 4*(len(m.Blobs)+len(m.Children)))
	for kind, ds := range [][]digest.Digest{refBlob: m.Blobs, refChild: m.Children} {
		for _, d := range ds {
			args = append(args, repoID, m.Digest.String(), kind, d.String())
		}
	}
	for chunk := range slices.Chunk(args, 4*rowsPerStatement) {
		q := "INSERT INTO manifest_refs (repo_id, manifest, kind, ref) VALUES " + valueRows(s.d, len(chunk)/4, 4) + " ON CONFLICT DO NOTHING"
		if _, err := tx.ExecContext(ctx, q, chunk...); err != nil {
			return fmt.Errorf("record references: %w", err)
		}
	}
	return nil
}

// moveTag points the tag at dgst and returns the digest it pointed at
// before ("" if it did not exist). Where the dialect locks rows, the tag's
// row stays locked until tx ends, so no other transaction can move it in
// between.
func (s *Store) moveTag(ctx context.Context, tx Conn, repoID int64, tag, dgst string, updated int64) (string, error) {
	// Each pass either finds the row (and locks it) or inserts it; only a
	// concurrent insert or delete of the same tag sends it round again.
	for range maxAttempts {
		var previous string
		err := s.run(ctx, tx, lockTag).QueryRowContext(ctx, repoID, tag).Scan(&previous)
		switch {
		case err == nil:
			if _, err := s.run(ctx, tx, updateTag).ExecContext(ctx, repoID, tag, dgst, updated); err != nil {
				return "", err
			}
			return previous, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", err
		}
		n, err := affected(s.run(ctx, tx, insertTag).ExecContext(ctx, repoID, tag, dgst, updated))
		if err != nil {
			return "", err
		}
		if n == 1 {
			return "", nil
		}
	}
	return "", errors.New("tag changed concurrently too often")
}

// GetManifest implements store.Manifests. The manifest returned may be
// shared with the store's cache: callers must not modify its slices or
// map.
func (s *Store) GetManifest(ctx context.Context, repo string, dgst digest.Digest) (*store.Manifest, error) {
	s.cacheCheck(ctx)
	if m, ok := s.cache.manifest(repo, dgst); ok {
		return m, nil
	}
	gen := s.cache.generation()
	lctx, err := s.lookupCtx(ctx)
	var m *store.Manifest
	if err == nil {
		m, err = scanManifest(s.run(lctx, nil, getManifest).QueryRowContext(lctx, repo, dgst.String()), repo, dgst)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest %s@%s: %w", repo, dgst, notFound(err))
	}
	s.cache.putManifest(gen, m)
	return m, nil
}

// GetTaggedManifest implements store.Manifests. With the read cache it is
// ResolveTag and GetManifest, both answered from memory when hot; without,
// one query, a join of the tag and its manifest, so that a pull by tag is
// one round trip.
func (s *Store) GetTaggedManifest(ctx context.Context, repo, tag string) (*store.Manifest, error) {
	if s.cache != nil {
		d, err := s.ResolveTag(ctx, repo, tag)
		if err != nil {
			return nil, err
		}
		return s.GetManifest(ctx, repo, d)
	}
	var d string
	lctx, err := s.lookupCtx(ctx)
	var m *store.Manifest
	if err == nil {
		m, err = scanManifest(s.run(lctx, nil, getTaggedManifest).QueryRowContext(lctx, repo, tag), repo, "", &d)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest %s:%s: %w", repo, tag, notFound(err))
	}
	m.Digest = digest.Digest(d)
	return m, nil
}

// scanManifest reads a manifest row of QGetManifest's columns, after any
// leading columns in pre.
func scanManifest(row scanner, repo string, dgst digest.Digest, pre ...any) (*store.Manifest, error) {
	m := &store.Manifest{Repository: repo, Digest: dgst}
	var subject, annotations, blobs, children string
	var created int64
	dest := append(pre, &m.MediaType, &m.ArtifactType, &subject, &m.Size, &m.Content,
		&annotations, &blobs, &children, &created)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := decodeJSON(annotations, &m.Annotations); err != nil {
		return nil, err
	}
	m.Blobs = decodeDigests(blobs)
	m.Children = decodeDigests(children)
	m.Subject = digest.Digest(subject)
	m.Created = fromNanos(created)
	return m, nil
}

// ResolveTag implements store.Manifests.
func (s *Store) ResolveTag(ctx context.Context, repo, tag string) (digest.Digest, error) {
	s.cacheCheck(ctx)
	if d, ok := s.cache.tag(repo, tag); ok {
		return d, nil
	}
	gen := s.cache.generation()
	var d string
	lctx, err := s.lookupCtx(ctx)
	if err == nil {
		err = s.run(lctx, nil, resolveTag).QueryRowContext(lctx, repo, tag).Scan(&d)
	}
	if err != nil {
		return "", fmt.Errorf("resolve tag %s:%s: %w", repo, tag, notFound(err))
	}
	s.cache.putTag(gen, repo, tag, digest.Digest(d))
	return digest.Digest(d), nil
}

// DeleteManifest implements store.Manifests. The manifest and its tags go
// in one transaction, which locks the manifest first (Dialect.ForUpdate),
// as PutManifest does, so that no writer can point a tag at it meanwhile.
func (s *Store) DeleteManifest(ctx context.Context, repo string, dgst digest.Digest) error {
	err := s.write(ctx, func(tx Conn) error {
		id, err := s.existingRepo(ctx, tx, repo)
		if err != nil {
			return err
		}
		var one int
		if err := s.run(ctx, tx, lockManifest).QueryRowContext(ctx, id, dgst.String()).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := s.run(ctx, tx, deleteManifestTags).ExecContext(ctx, id, dgst.String()); err != nil {
			return err
		}
		res, err := s.run(ctx, tx, deleteManifest).ExecContext(ctx, id, dgst.String())
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
	res, err := s.run(ctx, nil, deleteTag).ExecContext(ctx, repo, tag)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("delete tag %s:%s: %w", repo, tag, err)
	}
	return nil
}
