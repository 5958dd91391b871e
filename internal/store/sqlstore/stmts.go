package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// query names one of the store's statements. Reads come first: outside a
// transaction they run on the reader pool, the rest on the writer.
type query int

const (
	blobSize query = iota
	blobRepositories
	blobReferenced
	getManifest
	getTaggedManifest
	resolveTag
	tags
	repositories
	referrers
	referrersByType
	getUpload
	expiredUploads
	listSigningKeys
	getIdentity
	listIdentities
	identitiesVersion
	getPullToken
	listPullTokens
	pullTokensVersion
	eventsAfter
	eventRefsSince
	eventRef
	listDeliveries
	failedDeliveries
	getSubscription
	listSubscriptions
	subscriptionsVersion
	deliveryCounts
	deliveryOutcomes
	manifestCandidates
	blobLinkCandidates

	repoID // the first write
	insertRepo
	linkBlob
	unlinkBlob
	tombstoneSince
	removeTombstone
	touchBlob
	lockChild
	insertRef
	putManifest
	lockTag
	updateTag
	insertTag
	lockManifest
	deleteManifestTags
	deleteManifest
	deleteTag
	createUpload
	createUploadCapped
	deleteUpload
	startedUpload
	touchUpload
	countUploads
	putSigningKey
	retireSigningKey
	deleteSigningKey
	rewrapSigningKey
	putIdentity
	deleteIdentity
	bumpIdentitiesVersion
	putPullToken
	deletePullToken
	touchPullToken
	bumpPullTokensVersion
	appendEvent
	purgeEvents
	appendEventSeq
	insertEventChunk
	insertEventChunkSeq
	insertPackChunk
	insertDeliveryChunk
	insertDelivery
	putSubscription
	deleteSubscription
	deleteSubscriptionDeliveries
	disableSubscription
	enableSubscription
	bumpSubscriptionsVersion
	dueDeliveries
	finishDelivery
	recordDeliveryOutcomes
	collectManifest
	collectBlobLink
	tombstoneBlob

	numQueries
)

// texts returns the SQL of every query in d's dialect.
func texts(d *Dialect) [numQueries]string {
	deleteTags := QDeleteManifestTags
	if d.DeleteManifestTags != "" {
		deleteTags = d.DeleteManifestTags
	}
	return [numQueries]string{
		blobSize:                     QBlobSize,
		blobRepositories:             QBlobRepositories,
		blobReferenced:               QBlobReferenced,
		getManifest:                  QGetManifest,
		getTaggedManifest:            QGetTaggedManifest,
		resolveTag:                   QResolveTag,
		tags:                         QTags,
		repositories:                 QRepositories,
		referrers:                    QReferrers,
		referrersByType:              QReferrersByType,
		getUpload:                    QGetUpload,
		expiredUploads:               QExpiredUploads,
		listSigningKeys:              QListSigningKeys,
		getIdentity:                  QGetIdentity,
		listIdentities:               QListIdentities,
		identitiesVersion:            QIdentitiesVersion,
		getPullToken:                 QGetPullToken,
		listPullTokens:               QListPullTokens,
		pullTokensVersion:            QPullTokensVersion,
		eventsAfter:                  QEventsAfter,
		eventRefsSince:               QEventRefsSince,
		eventRef:                     QEventRef,
		listDeliveries:               QListDeliveries,
		failedDeliveries:             QFailedDeliveries,
		getSubscription:              QGetSubscription,
		listSubscriptions:            QListSubscriptions,
		subscriptionsVersion:         QSubscriptionsVersion,
		deliveryCounts:               QDeliveryCounts,
		deliveryOutcomes:             QDeliveryOutcomes,
		recordDeliveryOutcomes:       QRecordDeliveryOutcomes,
		manifestCandidates:           QManifestCandidates,
		blobLinkCandidates:           QBlobLinkCandidates,
		repoID:                       QRepoID,
		insertRepo:                   QInsertRepo,
		linkBlob:                     QLinkBlob,
		unlinkBlob:                   QUnlinkBlob,
		tombstoneSince:               QTombstoneSince,
		removeTombstone:              QRemoveTombstone,
		touchBlob:                    QTouchBlob,
		lockChild:                    QManifestExists + d.ForShare,
		insertRef:                    QInsertRef,
		putManifest:                  QPutManifest,
		lockTag:                      QGetTag + d.ForUpdate,
		updateTag:                    QUpdateTag,
		insertTag:                    QInsertTag,
		lockManifest:                 QManifestExists + d.ForUpdate,
		deleteManifestTags:           deleteTags,
		deleteManifest:               QDeleteManifest,
		deleteTag:                    QDeleteTag,
		createUpload:                 QCreateUpload,
		createUploadCapped:           QCreateUploadCapped,
		deleteUpload:                 QDeleteUpload,
		startedUpload:                QStartedUpload,
		touchUpload:                  QTouchUpload,
		countUploads:                 QCountUploads,
		putSigningKey:                QPutSigningKey,
		retireSigningKey:             QRetireSigningKey,
		deleteSigningKey:             QDeleteSigningKey,
		rewrapSigningKey:             QRewrapSigningKey,
		putIdentity:                  QPutIdentity,
		deleteIdentity:               QDeleteIdentity,
		bumpIdentitiesVersion:        QBumpIdentitiesVersion,
		putPullToken:                 QPutPullToken,
		deletePullToken:              QDeletePullToken,
		touchPullToken:               QTouchPullToken,
		bumpPullTokensVersion:        QBumpPullTokensVersion,
		appendEvent:                  QAppendEvent,
		purgeEvents:                  QPurgeEvents,
		appendEventSeq:               QAppendEventSeq,
		insertEventChunk:             insertEventsText(d, eventsPerInsert, false),
		insertEventChunkSeq:          insertEventsText(d, eventsPerInsert, true),
		insertPackChunk:              insertPacksText(d, packsPerInsert),
		insertDeliveryChunk:          insertDeliveriesText(d, deliveriesPerInsert),
		insertDelivery:               QInsertDelivery,
		putSubscription:              QPutSubscription,
		deleteSubscription:           QDeleteSubscription,
		deleteSubscriptionDeliveries: QDeleteSubscriptionDeliveries,
		disableSubscription:          QDisableSubscription,
		enableSubscription:           QEnableSubscription,
		bumpSubscriptionsVersion:     QBumpSubscriptionsVersion,
		dueDeliveries:                DueDeliveries(d.DueIndexHint, d.SkipLocked),
		finishDelivery:               QFinishDelivery,
		collectManifest:              QCollectManifest,
		collectBlobLink:              QCollectBlobLink,
		tombstoneBlob:                QTombstoneBlob,
	}
}

// statements holds every query's text and, when the dialect prepares,
// its prepared statement: read statements on the reader pool (database/sql
// prepares them again on each new connection), write statements on the
// writer, bound to a transaction with tx.StmtContext, which reuses the
// preparation.
type statements struct {
	text     [numQueries]string
	prepared [numQueries]*sql.Stmt
}

func prepareAll(ctx context.Context, d *Dialect, r, w *sql.DB) (*statements, error) {
	q := &statements{text: texts(d)}
	if !d.Prepare {
		return q, nil
	}
	for i, text := range q.text {
		db := w
		if query(i) < repoID {
			db = r
		}
		st, err := db.PrepareContext(ctx, text)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", text, err), q.close())
		}
		q.prepared[i] = st
	}
	return q, nil
}

func (q *statements) close() error {
	var errs []error
	for _, st := range q.prepared {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// runner is what a query runs on: a prepared statement, or its text on a
// pool or transaction.
type runner interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// Conn is what statements run on: a pool, a *sql.Tx, or, for a dialect
// with ManualTx, a connection inside BEGIN ... COMMIT.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// text runs a query by its text, which the driver may prepare and cache
// per connection (pgx does).
type text struct {
	c Conn
	q string
}

func (t text) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return t.c.ExecContext(ctx, t.q, args...)
}

func (t text) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return t.c.QueryContext(ctx, t.q, args...)
}

func (t text) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return t.c.QueryRowContext(ctx, t.q, args...)
}

// run returns q on tx, or outside a transaction (tx nil) on the pool q
// belongs to.
func (s *Store) run(ctx context.Context, tx Conn, q query) runner {
	if st := s.q.prepared[q]; st != nil {
		switch t := tx.(type) {
		case nil:
			return st
		case *sql.Tx:
			return t.StmtContext(ctx, st)
		}
	}
	var c Conn = s.w
	switch {
	case tx != nil:
		c = tx
	case q < repoID:
		c = s.r
	}
	return text{c, s.q.text[q]}
}
