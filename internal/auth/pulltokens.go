package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/pulltoken"
	"github.com/chainctl/chainctl/internal/store"
)

// The management operations on pull tokens: what /api/v1/pull-tokens
// (internal/apiv1) serves, as calls. Only an owner of every repository
// pattern a token names may create it, see it and revoke it.

// Pull token limits and defaults.
const (
	// DefaultPullTokenTTL is a new token's lifetime when the request names
	// none.
	DefaultPullTokenTTL = 720 * time.Hour
	// DefaultPullTokenMaxTTL caps the lifetime a request may ask for
	// (auth.pull_tokens.max_ttl).
	DefaultPullTokenMaxTTL = 8760 * time.Hour
	// MinPullTokenTTL is the shortest lifetime a token may have.
	MinPullTokenTTL = time.Minute
	// DefaultPullTokenRefresh is how often a replica checks the store for
	// pull tokens other replicas created or revoked: an access token issued
	// for a revoked pull token is refused on the others within it (on the
	// replica that revoked it, at once; /token everywhere at once).
	DefaultPullTokenRefresh = time.Second

	maxPullTokenPatterns    = 64
	maxPullTokenName        = 100
	maxPullTokenDescription = 1000
	// lastUsedResolution is how stale a token's last use may get: a busy
	// token writes it at most once per this.
	lastUsedResolution = time.Minute
)

// WithPullTokens keeps pull tokens in st (enabling /api/v1/pull-tokens and
// pull tokens as /token credentials), with lifetimes capped at maxTTL (0:
// DefaultPullTokenMaxTTL).
func WithPullTokens(st store.PullTokens, maxTTL time.Duration) ServiceOption {
	return func(v *Service) {
		v.ptStore = st
		if maxTTL > 0 {
			v.ptMaxTTL = maxTTL
		}
	}
}

// PullTokenRequest is what a caller asks a new pull token to be.
type PullTokenRequest struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Repositories []string `json:"repositories"`
	// TTLSeconds is the token's lifetime; 0 means DefaultPullTokenTTL.
	TTLSeconds int64 `json:"ttl_seconds"`
}

// PullTokenView is a pull token as the management API shows it. Secret is
// set only in the answer to its creation: it is never stored or shown
// again.
type PullTokenView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name,omitempty"`
	Description  string   `json:"description,omitempty"`
	Repositories []string `json:"repositories"`
	Creator      string   `json:"creator"`
	Created      string   `json:"created"`
	Expires      string   `json:"expires"`
	LastUsed     string   `json:"last_used,omitempty"`
	Expired      bool     `json:"expired"`
	// Inactive says why a token that has not expired works no more (its
	// creator was deleted or no longer owns its repositories).
	Inactive string           `json:"inactive,omitempty"`
	Secret   pulltoken.Secret `json:"secret,omitempty"`
}

// CreatePullToken makes a pull token for the caller, who must own every
// pattern it names. The answer holds the secret, this once.
func (s *Service) CreatePullToken(ctx context.Context, caller *Caller, req PullTokenRequest) (PullTokenView, error) {
	if s.ptStore == nil {
		return PullTokenView{}, errors.New("pull tokens: no store")
	}
	patterns, err := checkPullTokenRequest(&req)
	if err != nil {
		return PullTokenView{}, err
	}
	ttl, err := s.pullTokenTTL(req.TTLSeconds)
	if err != nil {
		return PullTokenView{}, err
	}
	if err := policy.CanGrant(caller.Bindings, []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: patterns}}); err != nil {
		return PullTokenView{}, refuse(KindForbidden, "only an owner of every repository a pull token names may create it: %s", strings.TrimPrefix(err.Error(), policy.ErrDenied.Error()+": "))
	}
	inc, ok := s.state.Load().incarnation[caller.ID]
	if !ok || inc == "" {
		return PullTokenView{}, refuse(KindUnauthenticated, "the session's identity %q no longer exists (run chainctl auth login)", caller.ID)
	}
	now := s.now()
	t := store.PullToken{
		Name: req.Name, Description: req.Description, Repositories: req.Repositories,
		Creator: caller.ID, CreatorIncarnation: inc, Created: now, Expires: now.Add(ttl),
	}
	var secret pulltoken.Secret
	for attempt := 0; ; attempt++ {
		t.ID, secret = pulltoken.NewID(), pulltoken.NewSecret()
		t.SecretHash = pulltoken.Hash(t.ID, secret)
		err = s.ptStore.PutPullToken(ctx, t)
		if !errors.Is(err, store.ErrExists) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return PullTokenView{}, err
	}
	s.log.InfoContext(ctx, "pull token created", "pull_token", t.ID, "by", caller.ID, "repositories", t.Repositories, "expires", t.Expires)
	s.refreshPullTokensNow(ctx)
	v := s.pullTokenView(s.state.Load(), t)
	v.Secret = secret
	return v, nil
}

// checkPullTokenRequest validates and normalizes req (patterns sorted,
// without duplicates) and returns its patterns.
func checkPullTokenRequest(req *PullTokenRequest) ([]policy.RepositoryPattern, error) {
	switch {
	case len(req.Name) > maxPullTokenName || !printable(req.Name):
		return nil, refuse(KindInvalid, "name must be at most %d printable characters", maxPullTokenName)
	case len(req.Description) > maxPullTokenDescription || !printable(req.Description):
		return nil, refuse(KindInvalid, "description must be at most %d printable characters", maxPullTokenDescription)
	case len(req.Repositories) == 0:
		return nil, refuse(KindInvalid, "repositories is required: the repository patterns the token may pull (\"acme/app\", \"acme/*\")")
	case len(req.Repositories) > maxPullTokenPatterns:
		return nil, refuse(KindInvalid, "a pull token names at most %d repository patterns", maxPullTokenPatterns)
	}
	req.Repositories = slices.Compact(slices.Sorted(slices.Values(req.Repositories)))
	patterns := make([]policy.RepositoryPattern, len(req.Repositories))
	for i, r := range req.Repositories {
		patterns[i] = policy.RepositoryPattern(r)
		if err := patterns[i].Validate(); err != nil {
			return nil, refuse(KindInvalid, "repository pattern %q: %v", r, err)
		}
	}
	return patterns, nil
}

// printable reports whether s holds no control characters.
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar })
}

// pullTokenTTL is the lifetime a request asks for, checked against the
// bounds.
func (s *Service) pullTokenTTL(secs int64) (time.Duration, error) {
	if secs == 0 {
		return min(DefaultPullTokenTTL, s.ptMaxTTL), nil
	}
	if secs < 0 || secs > int64(s.ptMaxTTL/time.Second) {
		return 0, refuse(KindInvalid, "ttl must be between %s and this registry's maximum of %s (auth.pull_tokens.max_ttl)",
			MinPullTokenTTL, formatHours(s.ptMaxTTL))
	}
	ttl := time.Duration(secs) * time.Second
	if ttl < MinPullTokenTTL {
		return 0, refuse(KindInvalid, "ttl must be at least %s", MinPullTokenTTL)
	}
	return ttl, nil
}

// formatHours writes d as people set it, "8760h" rather than "8760h0m0s".
func formatHours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// PullTokens returns the pull tokens the caller owns every pattern of:
// the live ones, and with expired set the expired ones too.
func (s *Service) PullTokens(ctx context.Context, caller *Caller, expired bool) ([]PullTokenView, error) {
	if s.ptStore == nil {
		return []PullTokenView{}, nil
	}
	list, err := s.ptStore.ListPullTokens(ctx)
	if err != nil {
		return nil, err
	}
	st, now := s.state.Load(), s.now()
	out := []PullTokenView{}
	for _, t := range list {
		if callerOwns(caller, t) && (expired || now.Before(t.Expires)) {
			out = append(out, s.pullTokenView(st, t))
		}
	}
	return out, nil
}

// PullToken returns one pull token the caller owns every pattern of.
func (s *Service) PullToken(ctx context.Context, caller *Caller, id string) (PullTokenView, error) {
	t, err := s.ownedPullToken(ctx, caller, id)
	if err != nil {
		return PullTokenView{}, err
	}
	return s.pullTokenView(s.state.Load(), *t), nil
}

// RevokePullToken deletes a pull token the caller owns every pattern of.
// It stops working at once: /token reads the store on every replica, and
// access tokens issued for it are refused here now and on other replicas
// within DefaultPullTokenRefresh.
func (s *Service) RevokePullToken(ctx context.Context, caller *Caller, id string) error {
	if _, err := s.ownedPullToken(ctx, caller, id); err != nil {
		return err
	}
	if err := s.ptStore.DeletePullToken(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return refuse(KindNotFound, "no pull token %q", id)
		}
		return err
	}
	s.log.InfoContext(ctx, "pull token revoked", "pull_token", id, "by", caller.ID)
	s.refreshPullTokensNow(ctx)
	return nil
}

// ownedPullToken reads token id, answering not found when the caller does
// not own every pattern of it, as when there is none.
func (s *Service) ownedPullToken(ctx context.Context, caller *Caller, id string) (*store.PullToken, error) {
	if s.ptStore == nil || !pulltoken.ValidID(id) {
		return nil, refuse(KindNotFound, "no pull token %q", id)
	}
	t, err := s.ptStore.GetPullToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !callerOwns(caller, *t) {
		return nil, refuse(KindNotFound, "no pull token %q", id)
	}
	return t, err
}

// callerOwns reports whether caller is an owner of every pattern of t.
func callerOwns(caller *Caller, t store.PullToken) bool {
	return len(t.Repositories) > 0 && !slices.ContainsFunc(t.Repositories, func(r string) bool {
		return !policy.Manages(caller.Bindings, policy.RepositoryPattern(r))
	})
}

func (s *Service) pullTokenView(st *compiled, t store.PullToken) PullTokenView {
	v := PullTokenView{
		ID: t.ID, Name: t.Name, Description: t.Description, Repositories: t.Repositories,
		Creator: t.Creator, Created: t.Created.UTC().Format(time.RFC3339), Expires: t.Expires.UTC().Format(time.RFC3339),
		Expired: !s.now().Before(t.Expires), Inactive: st.pullTokenInactive(&t),
	}
	if v.Repositories == nil {
		v.Repositories = []string{}
	}
	if !t.LastUsed.IsZero() {
		v.LastUsed = t.LastUsed.UTC().Format(time.RFC3339)
	}
	return v
}

// pullTokenInactive says why t works no more although it has not
// expired: its creator no longer exists as the identity that made it, or
// no longer owns one of its patterns. "" when it is active.
func (c *compiled) pullTokenInactive(t *store.PullToken) string {
	inc, ok := c.incarnation[t.Creator]
	if !ok || inc != t.CreatorIncarnation {
		return fmt.Sprintf("its creator %s no longer exists as the identity that made it", t.Creator)
	}
	for _, r := range t.Repositories {
		if !policy.Manages(c.rolesByID[t.Creator], policy.RepositoryPattern(r)) {
			return fmt.Sprintf("its creator %s is no longer an owner of %s", t.Creator, r)
		}
	}
	return ""
}
