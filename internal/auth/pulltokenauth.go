package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/pulltoken"
	"github.com/chainctl/chainctl/internal/ratelimit"
	"github.com/chainctl/chainctl/internal/store"
)

// How a pull token authenticates: /token takes its id and secret as HTTP
// Basic credentials (or the password grant's username and password), reads
// the token from the store — on every request, so that a revocation on any
// replica is in force at once — and grants what was asked intersected with
// pull on the token's patterns. The access token names the pull token
// ("ptk"); Authorize honours it only while the token is live, expired or
// revoked, and its creator still owns every pattern.

// Failed pull-token attempts allowed per window, per token id and per
// client address, before /token answers 429 until the window ends.
const (
	DefaultPullTokenFailuresPerID   = 10
	DefaultPullTokenFailuresPerAddr = 100
	DefaultPullTokenFailureWindow   = time.Minute
)

// errStoreFailure marks a credential that could not be checked because the
// metadata store failed: the token endpoint answers 503.
var errStoreFailure = errors.New("the credential store failed")

// pullTokenSet is one immutable generation of the pull tokens, as of a
// version of the store's, for /token and Authorize.
type pullTokenSet struct {
	loaded  bool
	version int64
	byID    map[string]*liveToken
}

// liveToken is a pull token as read, and when this replica last recorded
// its use (Unix nanos), carried from one generation to the next.
type liveToken struct {
	store.PullToken
	touched atomic.Int64
}

// pullTokenLimits are the two failure limiters of pull-token attempts.
type pullTokenLimits struct {
	byID, byAddr *ratelimit.Failures
}

// WithPullTokenFailureLimits sets how many failed pull-token attempts are
// allowed per token id and per client address within window.
func WithPullTokenFailureLimits(perID, perAddr int, window time.Duration) ServiceOption {
	return func(v *Service) { v.ptLimitPerID, v.ptLimitPerAddr, v.ptLimitWindow = perID, perAddr, window }
}

// isPullTokenCredential reports whether Basic credentials (or the password
// grant's) are a pull token's: its id as the username or a secret as the
// password. Both are recognisable without a lookup.
func isPullTokenCredential(user, password string) bool {
	return strings.HasPrefix(user, pulltoken.IDPrefix) || strings.HasPrefix(password, pulltoken.Prefix)
}

// pullTokenLimited answers 429 and reports true when the token id or the
// client address has failed too often lately.
func (s *Service) pullTokenLimited(w http.ResponseWriter, r *http.Request, id string) bool {
	wait, blocked := s.ptLimits.byAddr.Blocked(clientAddr(r))
	if pulltoken.ValidID(id) {
		if d, b := s.ptLimits.byID.Blocked(id); b {
			wait, blocked = max(wait, d), true
		}
	}
	if !blocked {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	s.log.WarnContext(r.Context(), "pull token attempts limited", "pull_token", loggableID(id), "remote", clientAddr(r), "retry_after", secs)
	h := http.Header{"Retry-After": {strconv.Itoa(secs)}}
	s.oauthError(w, r, http.StatusTooManyRequests, "temporarily_unavailable",
		fmt.Sprintf("too many failed attempts; try again in %d seconds", secs), h)
	return true
}

// pullTokenFailed counts a failed attempt against the id and the address.
func (s *Service) pullTokenFailed(r *http.Request, id string) {
	s.ptLimits.byAddr.Fail(clientAddr(r))
	if pulltoken.ValidID(id) {
		s.ptLimits.byID.Fail(id)
	}
}

// clientAddr is the request's client IP address, without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loggableID is id if it has the form of a token id, else a placeholder:
// a username that is not an id may be anything, a secret too.
func loggableID(id string) string {
	if pulltoken.ValidID(id) {
		return id
	}
	return "(not a pull token id)"
}

// authenticatePullToken checks a pull token's id and secret. Every refusal
// — unknown id, wrong secret, expired, revoked, a creator who no longer
// owns its repositories — is errBadCredentials, and an unknown id costs the
// same lookup and hash comparison as a wrong secret.
func (s *Service) authenticatePullToken(ctx context.Context, id, secret string) (*authenticated, error) {
	if s.ptStore == nil {
		return nil, fmt.Errorf("%w: pull tokens are not enabled", errBadCredentials)
	}
	if !pulltoken.ValidID(id) || !pulltoken.Valid(secret) {
		// Not the form of a pull token: no lookup, nothing to time.
		return nil, fmt.Errorf("%w: malformed pull token credentials for %s", errBadCredentials, loggableID(id))
	}
	set, err := s.currentPullTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errStoreFailure, err)
	}
	t := set.byID[id]
	hash := make([]byte, sha256.Size) // no secret hashes to zeros
	if t != nil {
		hash = t.SecretHash
	}
	match := pulltoken.Verify(id, pulltoken.Secret(secret), hash)
	now := s.now()
	switch {
	case t == nil:
		return nil, fmt.Errorf("%w: no pull token %s (never created, or revoked)", errBadCredentials, id)
	case !match:
		return nil, fmt.Errorf("%w: wrong secret for pull token %s", errBadCredentials, id)
	case !now.Before(t.Expires):
		return nil, fmt.Errorf("%w: pull token %s expired at %s", errBadCredentials, id, t.Expires.Format(time.RFC3339))
	}
	if why := s.state.Load().pullTokenInactive(&t.PullToken); why != "" {
		return nil, fmt.Errorf("%w: pull token %s: %s", errBadCredentials, id, why)
	}
	if last := t.touched.Load(); now.UnixNano()-last >= int64(lastUsedResolution) && t.touched.CompareAndSwap(last, now.UnixNano()) {
		if err := s.ptStore.TouchPullToken(ctx, id, now); err != nil {
			s.log.WarnContext(ctx, "record pull token use", "pull_token", id, "err", err)
		}
	}
	patterns := make([]policy.RepositoryPattern, len(t.Repositories))
	for i, r := range t.Repositories {
		patterns[i] = policy.RepositoryPattern(r)
	}
	return &authenticated{
		pullToken: t.ID, notAfter: t.Expires,
		bindings: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: patterns}},
	}, nil
}

// pullTokenAllows reports whether the access token c, issued for a pull
// token, may still do a: the pull token exists (not revoked), has not
// expired, its creator still owns every pattern, and a is a pull of a
// repository one of its patterns matches.
func (s *Service) pullTokenAllows(ctx context.Context, c *issuer.Claims, a policy.Access) bool {
	t, ok := s.livePullToken(ctx, c)
	if !ok || a.Type != policy.TypeRepository || len(a.Actions) == 0 {
		return false
	}
	for _, act := range a.Actions {
		if act != policy.ActionPull {
			return false
		}
	}
	for _, r := range t.Repositories {
		if policy.RepositoryPattern(r).Match(a.Name) {
			return true
		}
	}
	return false
}

// currentPullTokens returns the pull tokens as of a version of the store
// read after this call began (freshRead): a token revoked on any replica
// before a /token request arrived is gone from what the request sees. The
// set is read again only when the version changed.
func (s *Service) currentPullTokens(ctx context.Context) (*pullTokenSet, error) {
	v, err := s.ptVersion.Read(ctx)
	if err != nil {
		return nil, err
	}
	if set := s.ptState.Load(); set.loaded && set.version >= v {
		return set, nil
	}
	s.ptMu.Lock()
	defer s.ptMu.Unlock()
	if set := s.ptState.Load(); set.loaded && set.version >= v {
		return set, nil // another request read it meanwhile
	}
	if err := s.reloadPullTokensLocked(ctx, true); err != nil {
		return nil, err
	}
	return s.ptState.Load(), nil
}

// livePullToken returns the pull token an access token names, if it is
// live now.
func (s *Service) livePullToken(ctx context.Context, c *issuer.Claims) (*liveToken, bool) {
	if s.ptStore == nil || c.PullToken == "" || c.Subject != c.PullToken {
		return nil, false
	}
	s.maybeRefreshPullTokens(ctx)
	t, ok := s.ptState.Load().byID[c.PullToken]
	if !ok {
		// Made on another replica since the last read: the access token is
		// ours (signed, verified), so the token existed when it was issued.
		// A revoked token's access tokens come this way too, each costing
		// one version read until they expire.
		if err := s.RefreshPullTokens(ctx); err != nil {
			s.log.WarnContext(ctx, "refresh pull tokens", "err", err)
		}
		t, ok = s.ptState.Load().byID[c.PullToken]
	}
	if !ok || !s.now().Before(t.Expires) || s.state.Load().pullTokenInactive(&t.PullToken) != "" {
		return nil, false
	}
	return t, true
}

// RefreshPullTokens reads the pull tokens again if their version changed
// since the last read. serve calls it at startup to fail early; Authorize
// calls it every DefaultPullTokenRefresh.
func (s *Service) RefreshPullTokens(ctx context.Context) error {
	if s.ptStore == nil {
		return nil
	}
	s.ptMu.Lock()
	defer s.ptMu.Unlock()
	return s.reloadPullTokensLocked(ctx, false)
}

// refreshPullTokensNow reads the pull tokens after this replica changed
// them, so that the change is in force here at once.
func (s *Service) refreshPullTokensNow(ctx context.Context) {
	s.ptMu.Lock()
	defer s.ptMu.Unlock()
	if err := s.reloadPullTokensLocked(ctx, true); err != nil {
		s.log.WarnContext(ctx, "refresh pull tokens", "err", err)
	}
}

func (s *Service) reloadPullTokensLocked(ctx context.Context, force bool) error {
	s.ptCheck.mark(s.now())
	v, err := s.ptStore.PullTokensVersion(ctx)
	if err != nil {
		return fmt.Errorf("pull tokens: %w", err)
	}
	if cur := s.ptState.Load(); !force && cur.loaded && cur.version == v {
		return nil
	}
	list, err := s.ptStore.ListPullTokens(ctx)
	if err != nil {
		return fmt.Errorf("pull tokens: %w", err)
	}
	old := s.ptState.Load()
	set := &pullTokenSet{loaded: true, version: v, byID: make(map[string]*liveToken, len(list))}
	for _, t := range list {
		lt := &liveToken{PullToken: t}
		if !t.LastUsed.IsZero() {
			lt.touched.Store(t.LastUsed.UnixNano())
		}
		if prev, ok := old.byID[t.ID]; ok {
			lt.touched.Store(max(lt.touched.Load(), prev.touched.Load()))
		}
		set.byID[t.ID] = lt
	}
	s.ptState.Store(set)
	return nil
}

// maybeRefreshPullTokens checks the store for other replicas' changes
// when the last check is older than DefaultPullTokenRefresh; one caller
// checks, the others go on with the current generation.
func (s *Service) maybeRefreshPullTokens(ctx context.Context) {
	if s.ptStore == nil || !s.ptCheck.claim(s.now(), s.ptRefresh) {
		return
	}
	if err := s.RefreshPullTokens(ctx); err != nil {
		s.log.WarnContext(ctx, "refresh pull tokens", "err", err)
	}
}
