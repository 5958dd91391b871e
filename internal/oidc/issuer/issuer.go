// Package issuer is the registry's own OpenID Connect issuer: it keeps
// ES256 signing keys in the metadata store, signs the registry's tokens
// (session tokens, access tokens, event deliveries), publishes the public
// keys (OpenID Connect Discovery 1.0, RFC 8414, RFC 7517) and verifies
// tokens it signed.
//
// Keys live in the store, not in the process, so every replica sharing a
// database signs with the same key and verifies what any of them signed.
// The newest active key signs. Rotation adds a key and retires the older
// ones; a retired key keeps verifying, and stays in the JWKS, until every
// token it can have signed has expired, and is then deleted.
package issuer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// Limits of verification.
const (
	// MaxClockSkew is how far exp, nbf and iat may be off the verifier's
	// clock (RFC 7519 section 4.1.4 allows "some small leeway").
	MaxClockSkew = 60 * time.Second
	// MaxTokenSize is the longest raw token Verify reads.
	MaxTokenSize = 16 << 10
)

// Defaults of the options.
const (
	DefaultMaxTokenLifetime = 24 * time.Hour
	DefaultRotationAge      = 30 * 24 * time.Hour
	DefaultVerifyCacheSize  = 10_000
)

// How keys travel between replicas: a replica learns about another's
// rotation when it reloads the keys from the store.
const (
	// refreshAfter: Sign and the JWKS handler reload keys older than this.
	refreshAfter = time.Minute
	// staleLimit: Sign refuses to sign with keys it could not reload for
	// this long, so a key retired by another replica stops signing
	// within staleLimit. The retention of a retired key includes it.
	staleLimit = 5 * time.Minute
	// minReload: a token naming an unknown kid reloads the keys at most
	// this often, so forged kids cannot make every request a query.
	minReload = 5 * time.Second
)

// Option configures New.
type Option func(*options)

type options struct {
	issuerURL     string
	tokenEndpoint string
	logger        *slog.Logger
	now           func() time.Time
	maxLifetime   time.Duration
	rotationAge   time.Duration
	cacheSize     int
}

// WithIssuerURL sets the issuer identifier: the registry's external URL,
// http or https, without query, fragment or trailing slash (RFC 8414
// section 2). Tokens carry it as "iss"; the discovery document and JWKS
// are served under it. Required.
func WithIssuerURL(u string) Option { return func(o *options) { o.issuerURL = u } }

// WithTokenEndpoint sets the token_endpoint the discovery document
// announces. The default is <issuer>/oauth/token.
func WithTokenEndpoint(u string) Option { return func(o *options) { o.tokenEndpoint = u } }

// WithLogger sets the logger. The default discards. Keys are logged by id
// only.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock, for tests. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithMaxTokenLifetime bounds how long a token Sign makes may live, and
// so how long a retired key stays published (this, plus MaxClockSkew, plus
// a few minutes for replicas to notice). The default is
// DefaultMaxTokenLifetime.
func WithMaxTokenLifetime(d time.Duration) Option { return func(o *options) { o.maxLifetime = d } }

// WithRotationAge sets the age at which MaybeRotate replaces the active
// key. Zero or less turns automatic rotation off. The default is
// DefaultRotationAge.
func WithRotationAge(d time.Duration) Option { return func(o *options) { o.rotationAge = d } }

// WithVerifyCacheSize bounds how many verified tokens Verify remembers.
// The default is DefaultVerifyCacheSize; zero or less turns the cache off.
func WithVerifyCacheSize(n int) Option { return func(o *options) { o.cacheSize = n } }

// KeyStore is what the issuer needs of the metadata store: its signing
// keys, with store.SigningKeys' semantics. The private keys it gets and
// puts are PKCS #8 DER; sealing them at rest is the job of what stands
// between (keywrap.SealedKeys).
type KeyStore interface {
	PutSigningKey(ctx context.Context, k store.SigningKey) error
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	DeleteSigningKey(ctx context.Context, id string) error
}

// Issuer signs and verifies the registry's tokens. It is safe for
// concurrent use.
type Issuer struct {
	store       KeyStore
	log         *slog.Logger
	now         func() time.Time
	url         string
	maxLifetime time.Duration
	rotationAge time.Duration
	retention   time.Duration // how long a retired key keeps verifying
	discovery   []byte

	keys  atomic.Pointer[keyset]
	cache *verifyCache

	// mu serializes reloads and key changes; lastRead (under mu) is when
	// the store was last read, successfully or not.
	mu       sync.Mutex
	lastRead time.Time
}

// New returns an issuer whose keys live in keys. On the first start (no
// usable active key in the store) it generates an ES256 key and stores
// it; afterwards it loads the stored keys. It also retires superseded
// keys and deletes expired ones, as MaybeRotate does.
//
// The caller should run MaybeRotate every minute or so: it rotates when
// the key is due and brings in key changes made by other replicas.
func New(ctx context.Context, keys KeyStore, opts ...Option) (*Issuer, error) {
	o := options{
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
		maxLifetime: DefaultMaxTokenLifetime,
		rotationAge: DefaultRotationAge,
		cacheSize:   DefaultVerifyCacheSize,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if keys == nil {
		return nil, errors.New("new issuer: no key store")
	}
	if err := checkIssuerURL(o.issuerURL); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	if o.maxLifetime <= 0 {
		return nil, fmt.Errorf("new issuer: max token lifetime %v is not positive", o.maxLifetime)
	}
	if o.tokenEndpoint == "" {
		o.tokenEndpoint = o.issuerURL + "/oauth/token"
	}
	i := &Issuer{
		store:       keys,
		log:         o.logger,
		now:         o.now,
		url:         o.issuerURL,
		maxLifetime: o.maxLifetime,
		rotationAge: o.rotationAge,
		retention:   o.maxLifetime + MaxClockSkew + staleLimit,
		cache:       newVerifyCache(o.cacheSize),
	}
	var err error
	if i.discovery, err = discoveryDocument(o.issuerURL, o.tokenEndpoint); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, err := i.maintain(ctx); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	return i, nil
}

// checkIssuerURL enforces RFC 8414 section 2 (minus https, which the
// caller decides: dev mode serves http on loopback).
func checkIssuerURL(s string) error {
	if s == "" {
		return errors.New("no issuer URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("issuer URL %q: %w", s, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("issuer URL %q: scheme must be https or http", s)
	case u.Host == "" || u.User != nil:
		return fmt.Errorf("issuer URL %q: must have a host and no user info", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("issuer URL %q: must have no query or fragment", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("issuer URL %q: must not end with a slash", s)
	}
	return nil
}

// URL returns the issuer identifier ("iss").
func (i *Issuer) URL() string { return i.url }

// Rotate makes a new key the signing key and retires the others, which
// keep verifying for the retention period. It returns the new key's id.
func (i *Issuer) Rotate(ctx context.Context) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.rotate(ctx)
}

// MaybeRotate rotates when the signing key is at least the rotation age
// old, reloads the keys (taking in other replicas' changes), retires keys
// superseded by a newer active one, and deletes retired keys whose
// retention has passed. It reports whether it rotated.
func (i *Issuer) MaybeRotate(ctx context.Context) (bool, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	ks, err := i.maintain(ctx)
	if err != nil {
		return false, err
	}
	if i.rotationAge <= 0 || i.now().Sub(ks.signing.created) < i.rotationAge {
		return false, nil
	}
	if _, err := i.rotate(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// rotate stores a new key and retires every active key older than it.
// Callers hold i.mu.
func (i *Issuer) rotate(ctx context.Context) (string, error) {
	stored, err := i.store.SigningKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate: load signing keys: %w", err)
	}
	// The new key must be the newest, even if another replica's clock
	// (or this one, a moment ago) stamped a key later than now.
	created := i.now()
	for _, k := range stored {
		if !k.Created.Before(created) {
			created = k.Created.Add(time.Nanosecond)
		}
	}
	sk, err := generateKey(created)
	if err != nil {
		return "", fmt.Errorf("rotate: %w", err)
	}
	if err := i.store.PutSigningKey(ctx, sk); err != nil {
		return "", fmt.Errorf("rotate: store signing key: %w", err)
	}
	i.log.InfoContext(ctx, "signing key created", "kid", sk.ID)
	if _, err := i.maintain(ctx); err != nil {
		return "", fmt.Errorf("rotate: %w", err)
	}
	return sk.ID, nil
}

// maintain reads the keys, makes one when none is active, retires every
// active key older than the newest, deletes retired keys past their
// retention, and installs the result. Replicas doing this at once
// converge: they order the same rows the same way, so they keep the same
// newest key, and retiring or deleting twice is harmless. Callers hold
// i.mu.
func (i *Issuer) maintain(ctx context.Context) (*keyset, error) {
	i.lastRead = i.now()
	stored, err := i.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	now := i.now()
	keys := i.decode(ctx, stored)
	if !slices.ContainsFunc(keys, func(k *key) bool { return k.retired.IsZero() }) {
		sk, err := generateKey(now)
		if err != nil {
			return nil, err
		}
		if err := i.store.PutSigningKey(ctx, sk); err != nil {
			return nil, fmt.Errorf("store signing key: %w", err)
		}
		i.log.InfoContext(ctx, "signing key created", "kid", sk.ID)
		stored = append(stored, sk)
		keys = i.decode(ctx, stored)
	}

	// The newest usable active key signs. Active keys older than it are
	// superseded, usable or not; newer unusable ones (another version's
	// algorithm) are left alone.
	var newest store.SigningKey
	for _, k := range keys {
		sk := store.SigningKey{ID: k.id, Created: k.created}
		if k.retired.IsZero() && (newest.ID == "" || newer(sk, newest) > 0) {
			newest = sk
		}
	}
	cutoff := now.Add(-i.retention)
	retired := false
	for _, sk := range stored {
		switch {
		case sk.Active() && newer(sk, newest) < 0:
			err := i.store.RetireSigningKey(ctx, sk.ID, now)
			switch {
			case err == nil:
				i.log.InfoContext(ctx, "signing key retired", "kid", sk.ID)
			case !errors.Is(err, store.ErrNotFound): // deleted meanwhile: fine
				return nil, fmt.Errorf("retire signing key: %w", err)
			}
			retired = true
		case !sk.Active() && !sk.Retired.After(cutoff):
			err := i.store.DeleteSigningKey(ctx, sk.ID)
			switch {
			case err == nil:
				i.log.InfoContext(ctx, "retired signing key deleted", "kid", sk.ID)
			case !errors.Is(err, store.ErrNotFound): // another replica was first
				return nil, fmt.Errorf("delete signing key: %w", err)
			}
		}
	}
	if retired {
		// Read back rather than patch: another replica may have written
		// too (a deleted key needs no read: the cutoff leaves it out).
		if stored, err = i.store.SigningKeys(ctx); err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
		keys = i.decode(ctx, stored)
	}
	ks, err := i.install(keys, now)
	if err != nil {
		return nil, err
	}
	if ks.signing == nil {
		return nil, errors.New("no active signing key")
	}
	return ks, nil
}

// reload reads the keys and installs them, without writing. Callers hold
// i.mu.
func (i *Issuer) reload(ctx context.Context) (*keyset, error) {
	i.lastRead = i.now()
	stored, err := i.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return i.install(i.decode(ctx, stored), i.now())
}

// decode parses the stored keys, logging (by id) and skipping the ones it
// cannot use.
func (i *Issuer) decode(ctx context.Context, stored []store.SigningKey) []*key {
	keys := make([]*key, 0, len(stored))
	for _, sk := range stored {
		k, err := decodeKey(sk)
		if err != nil {
			level := slog.LevelWarn
			if errors.Is(err, errUnsupportedKey) {
				level = slog.LevelDebug
			}
			i.log.Log(ctx, level, "skipping signing key", "kid", sk.ID, "err", err)
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

// install makes keys the current keyset. Callers hold i.mu.
func (i *Issuer) install(keys []*key, now time.Time) (*keyset, error) {
	ks, err := newKeyset(keys, now.Add(-i.retention), now)
	if err != nil {
		return nil, err
	}
	i.keys.Store(ks)
	return ks, nil
}

// fresh returns the keyset, reloading it first when it is older than
// refreshAfter. A failed reload is logged and the old keyset returned.
func (i *Issuer) fresh(ctx context.Context) *keyset {
	ks := i.keys.Load()
	if i.now().Sub(ks.loaded) < refreshAfter {
		return ks
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if ks = i.keys.Load(); i.now().Sub(ks.loaded) < refreshAfter {
		return ks // another goroutine reloaded meanwhile
	}
	if i.now().Sub(i.lastRead) < minReload {
		return ks // a read failed a moment ago: do not hammer the store
	}
	nks, err := i.reload(ctx)
	if err != nil {
		i.log.WarnContext(ctx, "reloading signing keys failed", "err", err)
		return ks
	}
	return nks
}

// reloadForKid reloads the keys because a token named kid, which the
// current keyset lacks (another replica may have just rotated), at most
// once per minReload. It returns the key or nil.
func (i *Issuer) reloadForKid(ctx context.Context, kid string) *key {
	i.mu.Lock()
	defer i.mu.Unlock()
	if k := i.keys.Load().byID[kid]; k != nil {
		return k // another goroutine reloaded meanwhile
	}
	if i.now().Sub(i.lastRead) < minReload {
		return nil
	}
	ks, err := i.reload(ctx)
	if err != nil {
		i.log.WarnContext(ctx, "reloading signing keys failed", "err", err)
		return nil
	}
	return ks.byID[kid]
}
