// Package store is the registry's metadata: which repositories hold which
// blobs, manifests, tags, referrers and upload sessions, the issuer's
// signing keys and the identities created through the API. Blob bytes
// live in package storage; this package never sees them.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/opencontainers/go-digest"
)

// Errors returned by implementations. Callers test them with errors.Is.
var (
	// ErrNotFound means the repository, blob link, manifest, tag or upload
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a create-only write found the key taken.
	ErrExists = errors.New("already exists")
	// ErrBlobDeleted means LinkBlob found the blob's bytes being deleted by
	// garbage collection (a tombstone): nothing was linked, and the caller
	// should upload the bytes again.
	ErrBlobDeleted = errors.New("blob is being garbage collected")
	// ErrBlobUnknown means PutManifest found a blob the manifest references
	// not linked in the repository, or a child manifest missing: nothing
	// was stored and no tag moved.
	ErrBlobUnknown = errors.New("referenced blob or manifest unknown")
	// ErrTooManyUploads means CreateUpload found a cap of UploadCaps
	// reached: nothing was recorded.
	ErrTooManyUploads = errors.New("too many open uploads")
)

// Manifest is a manifest as stored: its bytes and what the registry needs
// to answer without parsing them again.
type Manifest struct {
	Repository   string
	Digest       digest.Digest
	MediaType    string
	ArtifactType string // for the referrers API: artifactType, else config.mediaType
	Size         int64
	Content      []byte
	// Subject is the digest of the manifest this one refers to (OCI
	// referrers), or "" when it has none.
	Subject digest.Digest
	// Annotations are the manifest's own annotations, reported by the
	// referrers API.
	Annotations map[string]string
	// Blobs are the digests of the blobs (config, layers) this manifest
	// references; Children are the manifests an index references.
	Blobs    []digest.Digest
	Children []digest.Digest
	Created  time.Time
}

// Descriptor is an entry of a referrers list.
type Descriptor struct {
	MediaType    string
	ArtifactType string
	Digest       digest.Digest
	Size         int64
	Annotations  map[string]string
}

// Upload is an upload session. It belongs to one repository and to the
// principal that started it.
type Upload struct {
	ID         string
	Repository string
	// Owner is the key of the principal that started the upload
	// (principal.Key); "" for anonymous. Nobody else may use it.
	Owner   string
	Started time.Time
	// Updated is the upload's last activity (its start, a chunk written):
	// uploads expire by it.
	Updated time.Time
	// Deferred means the blob store has not started the upload: the
	// registry starts it at the first chunk, and a whole-blob PUT never
	// needs it (on S3, one PutObject instead of upload state written,
	// read and deleted). StartedUpload clears it.
	Deferred bool
}

// UploadCaps bound the upload sessions open at once. Zero means no cap.
type UploadCaps struct {
	// PerOwner caps the uploads of one owner; anonymous uploads (owner "")
	// are not capped by it.
	PerOwner int
	// PerRepository caps the uploads of one repository, everyone's.
	PerRepository int
}

// Tx is a store write's transaction, as a TxFunc sees it: a way to write
// rows of the caller's own that commit, or roll back, with the store's.
type Tx interface {
	// Exec runs one SQL statement in the transaction, with $1, $2, ...
	// placeholders, and returns how many rows it changed. The statement
	// must mean the same on every backend's database (SQLite and
	// PostgreSQL) and touch only the caller's own tables.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// AppendEvent adds e to the event log (see Events) in the transaction.
	AppendEvent(ctx context.Context, e Event) error
	// DeleteUpload forgets the upload id (see Uploads) in the
	// transaction: the upload a LinkBlob finishes goes with it, in one
	// commit. An unknown id is not an error.
	DeleteUpload(ctx context.Context, id string) error
}

// Written is what a store write did, for its TxFuncs: the digest the tag
// pointed at before a PutManifest moved it ("" if the tag is new, or for
// writes that move no tag).
type Written struct {
	Previous digest.Digest
}

// TxFunc writes in the transaction of a store write (PutManifest,
// LinkBlob), after the write's own statements succeeded and before it
// commits: what it writes commits exactly when the write does, so a row
// recording the write (an outbox event) exists if and only if the write
// was acknowledged. If it returns an error, nothing commits and the write
// returns that error, wrapped. It does not run when the write fails
// before it (ErrBlobUnknown, ErrBlobDeleted). A backend may run the
// transaction again after a conflict with a concurrent one, and a TxFunc
// with it, so it must not keep state from an earlier attempt. It must not
// call the store: the transaction holds locks the store would wait for.
type TxFunc func(ctx context.Context, tx Tx, w Written) error

// Blobs records which repositories hold which blobs. A blob is readable
// only through repositories it was pushed or mounted into.
type Blobs interface {
	// LinkBlob records that repo holds the blob dgst of the given size and
	// marks the link touched now (see Collector). Linking twice is not an
	// error. It returns ErrBlobDeleted, linking nothing, while dgst has a
	// tombstone (its bytes are being garbage collected). Each of also
	// runs, in order, in the same transaction after the link is written
	// (see TxFunc).
	LinkBlob(ctx context.Context, repo string, dgst digest.Digest, size int64, also ...TxFunc) error
	// BlobSize returns the size of dgst if repo holds it, else ErrNotFound.
	BlobSize(ctx context.Context, repo string, dgst digest.Digest) (int64, error)
	// BlobSizes is BlobSize for many digests at once (a manifest's): the
	// sizes of those repo holds; one it does not hold is not in the map.
	BlobSizes(ctx context.Context, repo string, dgsts []digest.Digest) (map[digest.Digest]int64, error)
	// UnlinkBlob removes repo's link to dgst; ErrNotFound if there was none.
	UnlinkBlob(ctx context.Context, repo string, dgst digest.Digest) error
	// BlobRepositories lists, in name order, up to n repositories that hold dgst.
	BlobRepositories(ctx context.Context, dgst digest.Digest, n int) ([]string, error)
	// BlobReferenced reports whether any repository still links dgst.
	BlobReferenced(ctx context.Context, dgst digest.Digest) (bool, error)
}

// Manifests stores manifests, tags and referrers.
type Manifests interface {
	// PutManifest stores m and, when tag is not empty, points tag at it, in
	// one transaction. It returns the digest the tag pointed at before ("" if
	// none). Every blob in m.Blobs must be linked in the repository and
	// every manifest in m.Children stored there, else it returns
	// ErrBlobUnknown; the links are marked touched now in the same
	// transaction, so garbage collection cannot remove them under it.
	// Each of also runs, in order, in the same transaction after the
	// manifest and tag are written (see TxFunc).
	PutManifest(ctx context.Context, m *Manifest, tag string, also ...TxFunc) (previous digest.Digest, err error)
	// GetManifest returns the manifest repo holds under dgst, or ErrNotFound.
	GetManifest(ctx context.Context, repo string, dgst digest.Digest) (*Manifest, error)
	// ResolveTag returns the digest tag points at in repo, or ErrNotFound.
	ResolveTag(ctx context.Context, repo, tag string) (digest.Digest, error)
	// GetTaggedManifest returns the manifest tag points at in repo, or
	// ErrNotFound: ResolveTag and GetManifest in one lookup, the pull
	// path's most frequent request.
	GetTaggedManifest(ctx context.Context, repo, tag string) (*Manifest, error)
	// DeleteManifest removes the manifest and every tag pointing at it;
	// ErrNotFound if repo does not hold it.
	DeleteManifest(ctx context.Context, repo string, dgst digest.Digest) error
	// DeleteTag removes a tag; ErrNotFound if it does not exist.
	DeleteTag(ctx context.Context, repo, tag string) error
}

// Lists pages through tags, repositories and referrers.
type Lists interface {
	// Tags returns up to n of repo's tags in lexical order, after last
	// (exclusive; "" starts at the beginning). ErrNotFound if the repository
	// was never created (no blob link, manifest or tag ever); a repository
	// whose tags were all deleted has an empty list. The slice may be
	// shared with a cache: callers must not modify its elements.
	Tags(ctx context.Context, repo, last string, n int) ([]string, error)
	// Repositories returns up to n repository names in lexical order after last.
	Repositories(ctx context.Context, last string, n int) ([]string, error)
	// Referrers returns the manifests in repo whose subject is dgst, filtered
	// by artifactType when it is not "".
	Referrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]Descriptor, error)
}

// Uploads tracks upload sessions, the repository and the owner of each.
type Uploads interface {
	// CreateUpload records u; the id must be new. A zero u.Started means
	// now, a zero u.Updated u.Started. When u's owner or repository
	// already has as many uploads open as caps allow, it returns
	// ErrTooManyUploads and records nothing; the check and the insert are
	// one transaction, so concurrent creations cannot overshoot a cap.
	CreateUpload(ctx context.Context, u Upload, caps UploadCaps) error
	// GetUpload returns the upload, or ErrNotFound.
	GetUpload(ctx context.Context, id string) (*Upload, error)
	// TouchUpload records activity on the upload at at; ErrNotFound if
	// unknown.
	TouchUpload(ctx context.Context, id string, at time.Time) error
	// StartedUpload records that the blob store has started a Deferred
	// upload; ErrNotFound if unknown.
	StartedUpload(ctx context.Context, id string) error
	// DeleteUpload forgets the upload; ErrNotFound if unknown.
	DeleteUpload(ctx context.Context, id string) error
	// ExpiredUploads lists, least recently active first, the uploads with
	// no activity since before, for cleanup.
	ExpiredUploads(ctx context.Context, before time.Time) ([]Upload, error)
}

// SigningKey is one of the registry issuer's signing keys as stored. The
// store treats Algorithm and PrivateKey as opaque.
//
// PrivateKey is secret: String, GoString and LogValue leave it out, so a
// key printed with fmt or logged with slog never shows it.
type SigningKey struct {
	// ID is the key's JWK "kid" (RFC 7517 section 4.5), unique in the store.
	ID string
	// Algorithm is the JWS algorithm the key signs with, e.g. "ES256".
	Algorithm string
	// PrivateKey is the private key: PKCS #8 DER when KEK is "", else
	// that DER sealed under the key-encryption key KEK names (package
	// keywrap). The store keeps both opaque.
	PrivateKey []byte
	// KEK names the key-encryption key PrivateKey is sealed with; "" for a
	// key stored in the clear (only by versions before encryption at rest,
	// and in tests).
	KEK string
	// Created is when the key was made; the newest active key signs.
	Created time.Time
	// Retired is when the key stopped signing; zero while it is active. A
	// retired key still verifies until it is deleted.
	Retired time.Time
}

// Active reports whether the key has not been retired.
func (k SigningKey) Active() bool { return k.Retired.IsZero() }

// String describes the key without its private part.
func (k SigningKey) String() string {
	return fmt.Sprintf("signing key %s (%s, created %s, retired %s)",
		k.ID, k.Algorithm, k.Created.Format(time.RFC3339), retiredString(k.Retired))
}

// GoString is String, so that %#v does not print the private key either.
func (k SigningKey) GoString() string { return k.String() }

// LogValue implements slog.LogValuer without the private key.
func (k SigningKey) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", k.ID),
		slog.String("algorithm", k.Algorithm),
		slog.String("kek", k.KEK),
		slog.Time("created", k.Created),
		slog.String("retired", retiredString(k.Retired)),
	)
}

func retiredString(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// SigningKeys keeps the registry issuer's signing keys. Every replica
// sharing a store sees the same keys.
type SigningKeys interface {
	// PutSigningKey adds k. It fails if k.ID is taken or if k has no ID,
	// algorithm or private key. A zero k.Created means now; k.Retired is
	// stored as given.
	PutSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns every key, retired ones included, oldest first
	// (by Created, then ID). An empty store returns an empty list.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey marks the key retired at at (which must not be
	// zero). Retiring a retired key keeps its first retirement time.
	// ErrNotFound if there is no such key.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteSigningKey removes the key; ErrNotFound if there is none.
	DeleteSigningKey(ctx context.Context, id string) error
	// RewrapSigningKey replaces the private key of key id, provided it is
	// still sealed under fromKEK, with privateKey sealed under toKEK. It
	// returns ErrNotFound if there is no such key or it is sealed under
	// another KEK by now (another replica re-wrapped it first).
	RewrapSigningKey(ctx context.Context, id, fromKEK, toKEK string, privateKey []byte) error
}

// StoredIdentity is an identity created through the API, as stored. The
// store keeps Document (the identity's JSON) opaque: package auth owns its
// meaning.
type StoredIdentity struct {
	// ID is the identity's id, unique in the store.
	ID string
	// Document is the identity as JSON.
	Document []byte
	// Created is when the identity was created.
	Created time.Time
	// CreatedBy is the id of the identity that created it.
	CreatedBy string
	// Incarnation tells this identity apart from any other ever created
	// under the same ID (one deleted before, one created after): tokens
	// name it, so that re-creating an id never revives old tokens. It is
	// chosen by the caller, unique per creation.
	Incarnation string
}

// Identities keeps the identities created through the API. Every replica
// sharing a store sees the same identities.
type Identities interface {
	// PutIdentity creates id. It returns ErrExists if id.ID is taken, and
	// fails if id has no ID, Document or Incarnation. A zero id.Created
	// means now.
	PutIdentity(ctx context.Context, id StoredIdentity) error
	// GetIdentity returns the identity, or ErrNotFound.
	GetIdentity(ctx context.Context, id string) (*StoredIdentity, error)
	// ListIdentities returns every identity in id order; an empty store
	// returns an empty list.
	ListIdentities(ctx context.Context) ([]StoredIdentity, error)
	// DeleteIdentity removes the identity; ErrNotFound if there is none.
	DeleteIdentity(ctx context.Context, id string) error
	// IdentitiesVersion returns a number that changes whenever an identity
	// is created or deleted, by this or any other replica: a cheap check
	// for whether ListIdentities would answer differently.
	IdentitiesVersion(ctx context.Context) (int64, error)
}

// PullToken is a pull token as stored: a long-lived, pull-only
// credential. Only a hash of its secret is kept; package auth owns the
// meaning of the fields.
type PullToken struct {
	// ID is the token's id, the username clients send; unique.
	ID string
	// Name and Description are for people.
	Name, Description string
	// Repositories are the repository patterns the token may pull.
	Repositories []string
	// Creator is the identity that made the token, as the incarnation
	// CreatorIncarnation: the token works only while that identity exists
	// as it and owns every pattern.
	Creator, CreatorIncarnation string
	// SecretHash is the hash of the secret (pulltoken.Hash).
	SecretHash []byte
	// Created and Expires bound the token's life.
	Created, Expires time.Time
	// LastUsed is when the token was last exchanged for an access token,
	// to about a minute; zero when never.
	LastUsed time.Time
}

// PullTokens keeps the pull tokens. Every replica sharing a store sees the
// same tokens; a revoked (deleted) token is gone for all of them at once.
type PullTokens interface {
	// PutPullToken creates t. It returns ErrExists if t.ID is taken, and
	// fails if t has no ID, SecretHash, Creator or Expires.
	PutPullToken(ctx context.Context, t PullToken) error
	// GetPullToken returns the token, or ErrNotFound.
	GetPullToken(ctx context.Context, id string) (*PullToken, error)
	// ListPullTokens returns every token, expired ones included, in id
	// order.
	ListPullTokens(ctx context.Context) ([]PullToken, error)
	// DeletePullToken removes (revokes) the token; ErrNotFound if there is
	// none.
	DeletePullToken(ctx context.Context, id string) error
	// TouchPullToken records that the token was used at at, unless it was
	// recorded as used at or after at already. A token that is gone is
	// not an error.
	TouchPullToken(ctx context.Context, id string, at time.Time) error
	// PullTokensVersion returns a number that changes whenever a token is
	// created or deleted, by this or any other replica (not when one is
	// touched).
	PullTokensVersion(ctx context.Context) (int64, error)
}

// Event is one entry of the event log: a push or pull, succeeded or
// failed. Data is the event's JSON, opaque to the store; the other fields
// are kept beside it for queries. package events owns their meaning.
type Event struct {
	// Seq orders the log; the store assigns it.
	Seq int64
	// ID is unique (the CloudEvents id).
	ID string
	// Type, Source and Subject are the CloudEvents attributes.
	Type, Source, Subject string
	// Time is when it happened.
	Time time.Time
	// Repository is the repository the event is about.
	Repository string
	// Failed says whether the request it records failed.
	Failed bool
	// Actor names who acted, for queries.
	Actor string
	// ErrorCode is the error code a failed request was answered with
	// (an OCI code such as MANIFEST_UNKNOWN), for summaries; "" if it
	// succeeded.
	ErrorCode string
	// Data is the event's JSON data.
	Data []byte
	// Subscriptions are the ids of the subscriptions the event is to be
	// delivered to: a pending delivery is recorded for each, with the
	// event, in the same transaction. Not read back.
	Subscriptions []string
}

// Subscription is a webhook subscribed to events (/api/v1/subscriptions).
// package events owns the meaning of its fields.
type Subscription struct {
	ID   string
	Sink string
	// Types are the event types it receives; Repositories the repository
	// patterns.
	Types, Repositories []string
	Description         string
	// Creator made it, as CreatorIncarnation.
	Creator, CreatorIncarnation string
	Created                     time.Time
	// Disabled is when deliveries stopped (a 410 Gone), with why; zero
	// while enabled.
	Disabled       time.Time
	DisabledReason string
}

// Delivery is a pending delivery of an event to a subscription, claimed
// by a delivery worker.
type Delivery struct {
	Subscription string
	Event        Event
	// Attempts made before this one.
	Attempts int
	// Queued is when the delivery was last queued again by hand
	// (RequeueDeliveries); zero if never. Retries run for
	// events.retry_for from the later of it and the event's time.
	Queued time.Time
}

// DeliveryState is where a delivery stands.
type DeliveryState int

// The states of a delivery.
const (
	DeliveryPending DeliveryState = iota
	DeliveryDelivered
	DeliveryFailed
)

// DeliveryRecord is one delivery of an event to a subscription as listed:
// the event (without its data) and what became of the delivery.
type DeliveryRecord struct {
	Event       Event
	State       DeliveryState
	Attempts    int
	NextAttempt time.Time // zero unless pending
	LastStatus  int
	LastError   string
	Updated     time.Time
	Queued      time.Time
}

// DeliveryQuery selects a subscription's deliveries, newest event first.
type DeliveryQuery struct {
	// FailedOnly lists the failed deliveries only.
	FailedOnly bool
	// Before lists the deliveries of events with Seq below it (a page's
	// cursor); 0 starts at the newest.
	Before int64
	Limit  int
}

// EventRef is what names an event and decides which subscriptions take it.
type EventRef struct {
	Seq        int64
	ID         string
	Type       string
	Repository string
	Time       time.Time
}

// DeliveryOutcome is what became of one attempt.
type DeliveryOutcome struct {
	// Delivered: the sink answered 2xx.
	Delivered bool
	// Failed: no more attempts (retries exhausted, or the subscription
	// disabled). Neither Delivered nor Failed: try again at Retry.
	Failed bool
	Retry  time.Time
	// Status is the sink's HTTP status (0 if none); Error says what went
	// wrong, "" when delivered.
	Status int
	Error  string
	At     time.Time
}

// FinishedDelivery is the outcome of an attempt at delivering event Seq.
type FinishedDelivery struct {
	Seq     int64
	Outcome DeliveryOutcome
}

// SubscriptionHealth sums up a subscription's deliveries: when one last
// succeeded, the newest error any attempt met (kept after later successes,
// and after its delivery is queued again or purged), and how many are
// pending and failed now.
type SubscriptionHealth struct {
	LastSuccess     time.Time
	LastError       string
	LastErrorAt     time.Time
	Pending, Failed int64
}

// Subscriptions keeps the event subscriptions and their deliveries. Every
// replica sees the same; each pending delivery is claimed by one worker at
// a time, for a lease, so replicas share the work.
type Subscriptions interface {
	// PutSubscription creates s; ErrExists if s.ID is taken.
	PutSubscription(ctx context.Context, s Subscription) error
	// GetSubscription returns one, or ErrNotFound.
	GetSubscription(ctx context.Context, id string) (*Subscription, error)
	// ListSubscriptions returns every subscription, in id order.
	ListSubscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteSubscription removes it and its deliveries; ErrNotFound if
	// there is none.
	DeleteSubscription(ctx context.Context, id string) error
	// DisableSubscription stops deliveries to it from at, for reason;
	// ErrNotFound if there is none.
	DisableSubscription(ctx context.Context, id string, at time.Time, reason string) error
	// SubscriptionsVersion changes whenever a subscription is created,
	// deleted or disabled.
	SubscriptionsVersion(ctx context.Context) (int64, error)
	// SubscriptionHealth sums up the deliveries of subscription id.
	SubscriptionHealth(ctx context.Context, id string) (SubscriptionHealth, error)
	// ClaimDeliveries returns at most limit deliveries of subscription that
	// are due at now and not leased, oldest event first, leased to the
	// caller until now+lease: another worker claims them only after that.
	ClaimDeliveries(ctx context.Context, subscription string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishDeliveries records the outcomes of attempts at delivering
	// events of subscription, in one transaction, and ends their leases.
	FinishDeliveries(ctx context.Context, subscription string, done []FinishedDelivery) error
	// EnableSubscription delivers to a disabled subscription again;
	// ErrNotFound if there is none.
	EnableSubscription(ctx context.Context, id string) error
	// ListDeliveries returns a page of subscription's deliveries.
	ListDeliveries(ctx context.Context, subscription string, q DeliveryQuery) ([]DeliveryRecord, error)
	// FailedDeliveries returns at most limit events, oldest first after
	// seq after, whose delivery to subscription failed and that happened
	// at or after since.
	FailedDeliveries(ctx context.Context, subscription string, since time.Time, after int64, limit int) ([]EventRef, error)
	// RequeueDeliveries queues the delivery of each event seqs names to
	// subscription again, due at now with no attempts made, keeping the
	// event's id: a delivery in any state is reset, a missing one made.
	// It returns how many it queued; events purged meanwhile are skipped.
	RequeueDeliveries(ctx context.Context, subscription string, seqs []int64, now time.Time) (int, error)
}

// Events keeps the event log. Push events are appended in the transaction
// of the write they report (Tx.AppendEvent); pulls and failures in batches
// (AppendEvents).
type Events interface {
	// AppendEvents adds events to the log in one transaction; Seq is
	// ignored. The same batch appended again (a retry after a lost
	// answer) is an error wrapping ErrExists, and nothing is added; so is
	// any id already in the log of an event kept in a row. (A store may
	// keep events many to a row, whose ids it does not index one by one.)
	AppendEvents(ctx context.Context, events []Event) error
	// EventsAfter returns at most limit events with Seq greater than after,
	// in Seq order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error)
	// EventRefsSince returns at most limit events that happened at or
	// after since, in (Time, Seq) order after the page cursor (time,
	// seq); a zero cursor starts at since.
	EventRefsSince(ctx context.Context, since time.Time, after EventRef, limit int) ([]EventRef, error)
	// EventRef returns the event with CloudEvents id id, or ErrNotFound.
	// An event kept many to a row is found only if its id begins with its
	// time in Unix milliseconds as 12 hex digits, as the registry's do.
	EventRef(ctx context.Context, id string) (EventRef, error)
	// PurgeEvents removes the events older than before and returns how many
	// it removed.
	PurgeEvents(ctx context.Context, before time.Time) (int64, error)
	// QueryEvents returns at most f.Limit events that f selects, newest
	// first: by Time, then by Seq, both descending. A page after f.Before
	// holds only events ordered after that position, so pages do not
	// shift as new events are recorded.
	QueryEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// SummarizeEvents counts the events f selects (f.Before and f.Limit
	// are ignored).
	SummarizeEvents(ctx context.Context, f EventFilter) (EventSummary, error)
}

// Outcome selects events by whether their request succeeded.
type Outcome int

// The outcomes.
const (
	AnyOutcome Outcome = iota
	Succeeded
	Failed
)

// EventPosition is a place in the order of QueryEvents: an event's Time
// and Seq.
type EventPosition struct {
	Time time.Time
	Seq  int64
}

// IsZero reports whether p is no position (the newest end of the log).
func (p EventPosition) IsZero() bool { return p.Time.IsZero() && p.Seq == 0 }

// EventFilter selects events. Every field set must hold of an event it
// selects; the zero value selects every event.
type EventFilter struct {
	// Repositories are exact repository names, or, ending in "/", every
	// repository under that prefix ("acme/" for acme/app, acme/x/y);
	// an event matches if any selects its repository. Empty selects every
	// repository: callers that must restrict what a caller sees pass the
	// repositories it may see, and never an empty list for "none".
	Repositories []string
	// Type is the event type ("" for any).
	Type string
	// Actors are actor keys (Event.Actor), any of which matches; empty
	// for any actor.
	Actors []string
	// Subject is the event's exact subject ("" for any).
	Subject string
	// Since and Until bound Time: Since <= Time < Until; zero for no bound.
	Since, Until time.Time
	Outcome      Outcome
	// Before continues a listing: only events ordered after it (older)
	// are returned. Zero starts at the newest.
	Before EventPosition
	// Limit caps the events returned; it must be positive.
	Limit int
}

// EventCount is how many events share the keys of a summary row.
type EventCount struct {
	// Key is what the row is about: a repository, an actor key or an
	// error code.
	Key string
	// Type is the event type, "" for a count of failures by code.
	Type  string
	Count int64
	// Failed counts those of Count that failed (0 in failures by code).
	Failed int64
}

// EventSummary counts events: by repository and type, by actor and type,
// and the failures by error code, each largest count first.
type EventSummary struct {
	Total        int64
	Repositories []EventCount
	Actors       []EventCount
	Failures     []EventCount
}

// Store is everything a metadata backend provides.
type Store interface {
	Blobs
	Manifests
	Lists
	Uploads
	SigningKeys
	Identities
	PullTokens
	Events
	Subscriptions
	Collector
	// Ping reports whether the store can serve requests (readiness).
	Ping(ctx context.Context) error
	Close() error
}
