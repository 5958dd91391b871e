package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/egress"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

// The management operations on identities: what /api/v1/identities
// (internal/apiv1) serves, as calls. A caller sees and deletes only
// identities all of whose role bindings it Manages, and creates only
// identities whose roles it CanGrant.

// ErrorKind classifies why a management operation refused.
type ErrorKind int

// The kinds of refusal.
const (
	// KindUnauthenticated: no valid session token.
	KindUnauthenticated ErrorKind = iota + 1
	// KindForbidden: the caller may not do this.
	KindForbidden
	// KindNotFound: nothing the caller may see by that name.
	KindNotFound
	// KindInvalid: the request itself is wrong.
	KindInvalid
	// KindConflict: the request clashes with what exists.
	KindConflict
)

// Error is a refusal of a management operation. Its message is for
// people and holds no internal detail; any other error from these
// operations is the registry's own failure.
type Error struct {
	Kind    ErrorKind
	Message string
}

func (e *Error) Error() string { return e.Message }

func refuse(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Caller is who a management request comes from: the identity of its
// session token, with the role bindings that identity has now.
type Caller struct {
	ID       string
	Bindings []policy.RoleBinding
}

// Visible reports whether the caller manages every repository pattern of
// roles, and so may see, and delete, an identity holding them.
func (c *Caller) Visible(roles []policy.RoleBinding) bool {
	return len(roles) > 0 && policy.CanGrant(c.Bindings, roles) == nil
}

// Owner reports whether the caller is an owner of anything: only owners
// manage identities.
func (c *Caller) Owner() bool {
	return slices.ContainsFunc(c.Bindings, func(b policy.RoleBinding) bool { return b.Role == policy.RoleOwner })
}

// IdentityView is an identity as the management API shows it: the
// identity's own fields, where it comes from ("config" or "api") and, for
// those created through the API, when and by whom.
type IdentityView struct {
	policy.Identity
	Source    string `json:"source"`
	Created   string `json:"created,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

// Sources of identities.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// TestResult says which identities a token matches. Error is set, and
// Results empty, when the token could not be verified at all.
type TestResult struct {
	Issuer  string          `json:"issuer,omitempty"`
	Subject string          `json:"subject,omitempty"`
	Results []policy.Result `json:"results,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// Caller authenticates a management request by its session token (raw),
// first taking in other replicas' identity changes when they are due.
func (s *Service) Caller(ctx context.Context, raw string) (*Caller, error) {
	s.maybeRefresh(ctx)
	if raw == "" {
		return nil, refuse(KindUnauthenticated, "a session token is required as \"Authorization: Bearer <token>\" (run chainctl auth login)")
	}
	c, err := s.signer.Verify(ctx, raw, s.sessionAudience())
	if err != nil {
		s.log.InfoContext(ctx, "refused API session token", "err", err)
		return nil, refuse(KindUnauthenticated, "the session token is invalid or expired (run chainctl auth login)")
	}
	roles, ok := s.state.Load().sessionIdentity(c)
	if !ok {
		return nil, refuse(KindUnauthenticated, "the session's identity %q no longer exists (run chainctl auth login)", c.Subject)
	}
	return &Caller{ID: c.Subject, Bindings: roles}, nil
}

func (s *Service) view(st *compiled, m *policy.Matcher) IdentityView {
	out := IdentityView{Identity: m.Identity(), Source: SourceConfig}
	if meta, ok := st.stored[m.ID()]; ok {
		out.Source, out.CreatedBy = SourceAPI, meta.CreatedBy
		out.Created = meta.Created.UTC().Format(time.RFC3339)
	}
	return out
}

// Identities returns the identities the caller may see.
func (s *Service) Identities(_ context.Context, caller *Caller) []IdentityView {
	st := s.state.Load()
	out := []IdentityView{}
	for _, m := range st.matchers {
		if caller.Visible(m.Identity().Roles) {
			out = append(out, s.view(st, m))
		}
	}
	return out
}

// lookup finds the identity id among those the caller may see. An
// identity unknown here may be another replica's recent creation, so the
// store is checked before answering not found.
func (s *Service) lookup(ctx context.Context, caller *Caller, id string) (*compiled, *policy.Matcher, error) {
	find := func(st *compiled) *policy.Matcher {
		i := slices.IndexFunc(st.matchers, func(m *policy.Matcher) bool { return m.ID() == id })
		if i < 0 {
			return nil
		}
		return st.matchers[i]
	}
	st := s.state.Load()
	m := find(st)
	if m == nil && s.idStore != nil {
		if err := s.RefreshIdentities(ctx); err != nil {
			return nil, nil, err
		}
		st = s.state.Load()
		m = find(st)
	}
	if m == nil || !caller.Visible(m.Identity().Roles) {
		return nil, nil, refuse(KindNotFound, "no identity %q that you manage", id)
	}
	return st, m, nil
}

// Identity returns identity id, if the caller may see it.
func (s *Service) Identity(ctx context.Context, caller *Caller, id string) (IdentityView, error) {
	st, m, err := s.lookup(ctx, caller, id)
	if err != nil {
		return IdentityView{}, err
	}
	return s.view(st, m), nil
}

// CreateIdentity stores id, an identity the caller may grant, with a new
// incarnation; an empty id.ID is chosen. It applies here at once, and on
// other replicas within their identity refresh.
func (s *Service) CreateIdentity(ctx context.Context, caller *Caller, id policy.Identity) (IdentityView, error) {
	if !caller.Owner() {
		return IdentityView{}, refuse(KindForbidden, "only owners of repositories may create identities")
	}
	if id.ID == "" {
		id.ID = newIdentityID()
	}
	if err := id.Validate(policy.IdentityOptions{Audience: s.service}); err != nil {
		return IdentityView{}, refuse(KindInvalid, "%v", err)
	}
	if len(id.IssuerKeys) > 0 {
		if _, err := s.newStatic(upstream.Issuer{URL: id.Issuer, JWKS: []byte(id.IssuerKeys)}); err != nil {
			return IdentityView{}, refuse(KindInvalid, "issuer_keys: %v", err)
		}
	} else if s.discovery == nil {
		return IdentityView{}, refuse(KindInvalid, "issuer %s: this registry does not discover issuer keys; set issuer_keys", id.Issuer)
	} else if err := publicIssuer(id.Issuer); err != nil {
		return IdentityView{}, refuse(KindInvalid, "%v", err)
	}
	if err := policy.CanGrant(caller.Bindings, id.Roles); err != nil {
		return IdentityView{}, refuse(KindForbidden, "%v", err)
	}
	if slices.ContainsFunc(s.identities, func(c policy.Identity) bool { return c.ID == id.ID }) {
		return IdentityView{}, refuse(KindConflict, "identity %q is defined in the server configuration", id.ID)
	}
	if s.idStore == nil {
		return IdentityView{}, refuse(KindConflict, "this registry has no identity store: identities are defined in the server configuration only")
	}
	doc, err := json.Marshal(id)
	if err != nil {
		return IdentityView{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.idStore.PutIdentity(ctx, store.StoredIdentity{ID: id.ID, Document: doc, Created: s.now().UTC(), CreatedBy: caller.ID, Incarnation: newIncarnation()})
	if errors.Is(err, store.ErrExists) {
		return IdentityView{}, refuse(KindConflict, "identity %q already exists", id.ID)
	}
	if err != nil {
		return IdentityView{}, err
	}
	if err := s.reloadLocked(ctx, true); err != nil {
		return IdentityView{}, err
	}
	st := s.state.Load()
	i := slices.IndexFunc(st.matchers, func(m *policy.Matcher) bool { return m.ID() == id.ID })
	if i < 0 {
		return IdentityView{}, fmt.Errorf("identity %s was stored but did not compile", id.ID)
	}
	s.log.InfoContext(ctx, "created identity", "identity", id.ID, "by", caller.ID)
	return s.view(st, st.matchers[i]), nil
}

// DeleteIdentity deletes identity id, created through the API, whose
// roles the caller may grant. Its sessions and access tokens stop working
// here at once, and on other replicas within their identity refresh.
func (s *Service) DeleteIdentity(ctx context.Context, caller *Caller, id string) error {
	if !caller.Owner() {
		return refuse(KindForbidden, "only owners of repositories may delete identities")
	}
	st, m, err := s.lookup(ctx, caller, id)
	if err != nil {
		return err
	}
	if _, ok := st.stored[id]; !ok {
		return refuse(KindConflict, "identity %q is defined in the server configuration; remove it there", id)
	}
	if err := policy.CanGrant(caller.Bindings, m.Identity().Roles); err != nil {
		return refuse(KindForbidden, "%v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.idStore.DeleteIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(KindNotFound, "no identity %q that you manage", id)
	}
	if err != nil {
		return err
	}
	if err := s.reloadLocked(ctx, true); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "deleted identity", "identity", id, "by", caller.ID)
	return nil
}

// TestToken verifies an upstream token and matches it against every
// identity the caller can see, explaining each mismatch. The token is
// verified with the audience it carries, so that an audience an identity
// does not accept shows as that identity's failure rather than as an
// unverifiable token. A verified token that no visible identity could
// match has an empty, not a nil, Results.
func (s *Service) TestToken(ctx context.Context, caller *Caller, raw string) TestResult {
	ans := s.diagnose(ctx, caller, strings.TrimSpace(raw))
	if ans.Error == "" && ans.Results == nil {
		ans.Results = []policy.Result{}
	}
	return ans
}

func (s *Service) diagnose(ctx context.Context, caller *Caller, raw string) TestResult {
	if len(raw) > upstream.MaxTokenSize {
		return TestResult{Error: fmt.Sprintf("the token is larger than %d bytes", upstream.MaxTokenSize)}
	}
	iss, aud, err := peekClaims(raw)
	if err != nil {
		return TestResult{Error: "the token cannot be read: " + err.Error()}
	}
	st := s.state.Load()
	var visible []*policy.Matcher
	var sources []*keySource
	for _, m := range st.matchers {
		if !caller.Visible(m.Identity().Roles) {
			continue
		}
		visible = append(visible, m)
		if src := st.sourceOf[m.ID()]; m.Identity().Issuer == iss && !slices.Contains(sources, src) {
			sources = append(sources, src)
		}
	}
	if len(sources) == 0 {
		return TestResult{Error: fmt.Sprintf("issuer %q is not configured by any identity you can see", iss)}
	}
	if aud == "" {
		return TestResult{Error: "the token has no aud claim"}
	}
	verified := map[*keySource]*upstream.Token{}
	causes := map[*keySource]string{}
	var first *keySource
	var why []string
	for _, src := range sources {
		tok, err := src.verifier.Verify(ctx, raw, upstream.Expectation{Issuers: []string{iss}, Audience: aud})
		if err != nil {
			causes[src] = keySourceName(src, iss) + ": " + err.Error()
			why = append(why, causes[src])
			continue
		}
		verified[src] = tok
		if first == nil {
			first = src
		}
	}
	if first == nil {
		return TestResult{Error: "the token does not verify: " + strings.Join(why, "; ")}
	}
	ans := TestResult{Issuer: verified[first].Issuer, Subject: verified[first].Subject}
	for _, m := range visible {
		src := st.sourceOf[m.ID()]
		if tok, ok := verified[src]; ok {
			ans.Results = append(ans.Results, m.Match(policy.Token{Issuer: tok.Issuer, Keys: src.keys, Claims: tok.Claims}))
			continue
		}
		if cause, ok := causes[src]; ok {
			ans.Results = append(ans.Results, policy.Result{ID: m.ID(), Name: m.Identity().Name, Failures: []policy.Failure{{
				Check: policy.CheckIssuerKeys, Kind: policy.KindMismatch, Reason: "the token does not verify " + cause}}})
			continue
		}
		tok := verified[first]
		ans.Results = append(ans.Results, m.Match(policy.Token{Issuer: tok.Issuer, Keys: first.keys, Claims: tok.Claims}))
	}
	return ans
}

// keySourceName names where a key source's keys come from, for
// diagnoses.
func keySourceName(src *keySource, iss string) string {
	if len(src.keys) > 0 {
		var ids []string
		for _, m := range src.matchers {
			ids = append(ids, m.ID())
		}
		return "with the issuer_keys of identity " + strings.Join(ids, ", ")
	}
	return "with the keys " + iss + " publishes"
}

// peekClaims reads iss and the first aud of a compact JWS without
// verifying it: only to choose which keys to verify with and to explain
// failures, never to trust.
func peekClaims(raw string) (iss, aud string, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", "", errors.New("not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", errors.New("the payload is not base64url")
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", "", errors.New("the payload is not a JSON object")
	}
	if c.Iss == "" {
		return "", "", errors.New("the token has no iss claim")
	}
	var one string
	var many []string
	switch {
	case json.Unmarshal(c.Aud, &one) == nil:
		aud = one
	case json.Unmarshal(c.Aud, &many) == nil && len(many) > 0:
		aud = many[0]
	}
	return c.Iss, aud, nil
}

// newIdentityID makes an id for an identity created without one: "id-"
// and ten random base32 characters.
func newIdentityID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "id-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// publicIssuer refuses, for identities created through the API, a
// discovered issuer the registry should not be made to fetch from: one
// that egress.CheckURL refuses (not https; a localhost name; a literal
// loopback, private, link-local, CGNAT, unspecified or other non-public
// address). The server configuration may name such issuers (a development
// provider, an IdP on the operator's network); an owner of a few
// repositories must not point the server at its internal network. Where a
// host name resolves is checked when the keys are fetched
// (upstream.Issuer.PublicOnly).
func publicIssuer(issuer string) error {
	err := egress.CheckURL(issuer, true)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, egress.ErrNotPublic):
		return fmt.Errorf("issuer: %w; a loopback, private, link-local or other non-public issuer can only be configured in the server configuration, or the identity must carry issuer_keys", err)
	default:
		return fmt.Errorf("issuer: %w; identities created through the API must name a public https issuer, or carry issuer_keys", err)
	}
}
