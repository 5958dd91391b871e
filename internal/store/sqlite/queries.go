package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/chainctl/chainctl/internal/store/sqlq"
)

// The queries shared with PostgreSQL are in package sqlq; these are
// SQLite's own, which rely on its single writer.
const (
	qInsertRepo = `INSERT INTO repositories (name) VALUES ($1) RETURNING id`

	qManifestExists = `SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2`

	qGetTag = `SELECT digest FROM tags WHERE repo_id = $1 AND name = $2`

	qPutTag = `INSERT INTO tags (repo_id, name, digest, updated) VALUES ($1, $2, $3, $4)
ON CONFLICT (repo_id, name) DO UPDATE SET
    digest = excluded.digest,
    updated = excluded.updated`

	// Without statistics SQLite would delete by scanning all of the
	// repository's tags; the subquery makes it use tags_digest.
	qDeleteManifestTags = `DELETE FROM tags
WHERE repo_id = $1 AND name IN (SELECT name FROM tags WHERE repo_id = $1 AND digest = $2)`
)

// statements are the queries, prepared once. Read statements belong to
// the reader pool (database/sql prepares them again on each new
// connection); write statements belong to the writer and are bound to a
// transaction with tx.StmtContext, which reuses the preparation.
type statements struct {
	all []*sql.Stmt

	blobSize, blobRepositories, blobReferenced *sql.Stmt
	getManifest, resolveTag                    *sql.Stmt
	tags, repositories                         *sql.Stmt
	referrers, referrersByType                 *sql.Stmt
	getUpload, expiredUploads                  *sql.Stmt
	signingKeys                                *sql.Stmt
	getIdentity, listIdentities                *sql.Stmt
	identitiesVersion                          *sql.Stmt

	repoID, insertRepo, linkBlob, unlinkBlob      *sql.Stmt
	tombstoneSince, removeTombstone               *sql.Stmt
	touchBlob, manifestExists, insertRef          *sql.Stmt
	putManifest, getTag, putTag                   *sql.Stmt
	deleteManifestTags, deleteManifest, deleteTag *sql.Stmt
	createUpload, deleteUpload, touchUpload       *sql.Stmt
	countUploads                                  *sql.Stmt
	putSigningKey, retireSigningKey               *sql.Stmt
	deleteSigningKey, rewrapSigningKey            *sql.Stmt
	putIdentity, deleteIdentity                   *sql.Stmt
	bumpIdentitiesVersion                         *sql.Stmt
}

func prepare(ctx context.Context, r, w *sql.DB) (*statements, error) {
	q := &statements{}
	for _, p := range []struct {
		db    *sql.DB
		dst   **sql.Stmt
		query string
	}{
		{r, &q.blobSize, sqlq.BlobSize},
		{r, &q.blobRepositories, sqlq.BlobRepositories},
		{r, &q.blobReferenced, sqlq.BlobReferenced},
		{r, &q.getManifest, sqlq.GetManifest},
		{r, &q.resolveTag, sqlq.ResolveTag},
		{r, &q.tags, sqlq.Tags},
		{r, &q.repositories, sqlq.Repositories},
		{r, &q.referrers, sqlq.Referrers},
		{r, &q.referrersByType, sqlq.ReferrersByType},
		{r, &q.getUpload, sqlq.GetUpload},
		{r, &q.expiredUploads, sqlq.ExpiredUploads},
		{r, &q.signingKeys, sqlq.SigningKeys},
		{r, &q.getIdentity, sqlq.GetIdentity},
		{r, &q.listIdentities, sqlq.ListIdentities},
		{r, &q.identitiesVersion, sqlq.IdentitiesVersion},
		{w, &q.repoID, sqlq.RepoID},
		{w, &q.insertRepo, qInsertRepo},
		{w, &q.linkBlob, sqlq.LinkBlob},
		{w, &q.unlinkBlob, sqlq.UnlinkBlob},
		{w, &q.tombstoneSince, sqlq.TombstoneSince},
		{w, &q.removeTombstone, sqlq.RemoveTombstone},
		{w, &q.touchBlob, sqlq.TouchBlob},
		{w, &q.manifestExists, qManifestExists},
		{w, &q.insertRef, sqlq.InsertRef},
		{w, &q.putManifest, sqlq.PutManifest},
		{w, &q.getTag, qGetTag},
		{w, &q.putTag, qPutTag},
		{w, &q.deleteManifestTags, qDeleteManifestTags},
		{w, &q.deleteManifest, sqlq.DeleteManifest},
		{w, &q.deleteTag, sqlq.DeleteTag},
		{w, &q.createUpload, sqlq.CreateUpload},
		{w, &q.deleteUpload, sqlq.DeleteUpload},
		{w, &q.touchUpload, sqlq.TouchUpload},
		{w, &q.countUploads, sqlq.CountUploads},
		{w, &q.putSigningKey, sqlq.PutSigningKey},
		{w, &q.retireSigningKey, sqlq.RetireSigningKey},
		{w, &q.deleteSigningKey, sqlq.DeleteSigningKey},
		{w, &q.rewrapSigningKey, sqlq.RewrapSigningKey},
		{w, &q.putIdentity, sqlq.PutIdentity},
		{w, &q.deleteIdentity, sqlq.DeleteIdentity},
		{w, &q.bumpIdentitiesVersion, sqlq.BumpIdentitiesVersion},
	} {
		st, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", p.query, err), q.close())
		}
		*p.dst = st
		q.all = append(q.all, st)
	}
	return q, nil
}

func (q *statements) close() error {
	var errs []error
	for _, st := range q.all {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
