package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/principal"
	"github.com/chainctl/chainctl/internal/registry"
)

var _ registry.Authorizer = (*Service)(nil)

// Authorize implements registry.Authorizer. A request passes with a valid
// access token (signed by our issuer, audience the service name) whose
// "access" claim holds every requested action, or, for pulls of public
// repositories, with no token at all. Anything else is answered 401 with
// a challenge naming the scope to ask the token endpoint for (Docker token
// authentication), with error="insufficient_scope" when a valid token
// lacks the action.
//
// optional accesses (a mount's source repository) are never required; they
// are added to the challenge's scope so that the client asks for them.
//
// The principal is the token's: its identities (as the incarnations it
// names) and the upstream issuer and subject they act for; anonymous
// without a token, and for a public pull whose token's identities are no
// longer current.
func (s *Service) Authorize(r *http.Request, a policy.Access, optional ...policy.Access) (principal.Principal, error) {
	var anonymous principal.Principal
	raw, present, err := BearerToken(r)
	if err != nil {
		s.log.InfoContext(r.Context(), "refused authorization header", "err", err)
		return anonymous, s.challenge(r, "invalid_request", a, optional...)
	}
	if !present {
		if s.publicPull(a) {
			return anonymous, nil
		}
		return anonymous, s.challenge(r, "", a, optional...)
	}
	c, err := s.signer.Verify(r.Context(), raw, s.service)
	if err != nil {
		s.log.InfoContext(r.Context(), "refused access token", "err", err)
		return anonymous, s.challenge(r, "invalid_token", a, optional...)
	}
	if (a.Type == policy.TypeRegistry && a.Name == "") || s.publicPull(a) {
		// GET /v2/ takes any valid token; a public pull needs none.
		if s.current(r.Context(), c) {
			return tokenPrincipal(c), nil
		}
		return anonymous, nil
	}
	if grants(c.Access, a) {
		if s.allowedNow(r.Context(), c, a) {
			return tokenPrincipal(c), nil
		}
		s.log.InfoContext(r.Context(), "access token outlived its grant", "sub", c.Subject)
		return anonymous, s.challenge(r, "invalid_token", a, optional...)
	}
	return anonymous, s.challenge(r, "insufficient_scope", a, optional...)
}

// current reports whether the principal an access token names is as it
// was when the token was issued: its identities exist as the incarnations
// it names, or its pull token is live.
func (s *Service) current(ctx context.Context, c *issuer.Claims) bool {
	if c.PullToken != "" {
		_, ok := s.livePullToken(ctx, c)
		return ok
	}
	return c.Subject != "anonymous" && s.state.Load().currentIncarnations(strings.Fields(c.Subject), c.Incarnations)
}

// tokenPrincipal is who an access token that allowedNow accepted names.
func tokenPrincipal(c *issuer.Claims) principal.Principal {
	if c.PullToken != "" {
		return principal.Principal{PullToken: c.PullToken}
	}
	var p principal.Principal
	for id := range strings.FieldsSeq(c.Subject) {
		p.Identities = append(p.Identities, principal.Identity{ID: id, Incarnation: c.Incarnations[id]})
	}
	if c.Actor != nil {
		p.Issuer, p.Subject = c.Actor.Issuer, c.Actor.Subject
	}
	return p
}

// allowedNow checks a, which an access token granted, against the roles
// of the token's identities (its subject) as they are now: deleting an
// identity stops its access tokens at once on this replica, and on the
// others within DefaultIdentityRefresh, rather than when they expire; and
// each identity must still be the incarnation the token names, so that one
// created again under the same id does not honour them either.
// The subject is the space-separated ids of the identities mintAccess
// granted for, or a pull token's id (checked by pullTokenAllows); any
// other kind of principal that gets access tokens must be checked here
// too, or its tokens are refused.
func (s *Service) allowedNow(ctx context.Context, c *issuer.Claims, a policy.Access) bool {
	if c.PullToken != "" {
		return s.pullTokenAllows(ctx, c, a)
	}
	sub := c.Subject
	if sub == "" || sub == "anonymous" {
		return false // an anonymous grant is a public pull, checked before
	}
	s.maybeRefresh(ctx)
	st := s.state.Load()
	if !st.currentIncarnations(strings.Fields(sub), c.Incarnations) {
		return false
	}
	roles := st.rolesByID
	for _, act := range a.Actions {
		ok := false
		for id := range strings.FieldsSeq(sub) {
			if b, exists := roles[id]; exists && policy.AllowsAccess(b, a.Type, a.Name, act) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return len(a.Actions) > 0
}

// BearerToken returns the token of an "Authorization: Bearer" header, whether
// one was sent, and an error for a malformed or oversized header.
func BearerToken(r *http.Request) (string, bool, error) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "", false, nil
	}
	if len(h) > 1 || len(h[0]) > maxAuthorizationHeader {
		return "", true, errors.New("several or oversized Authorization headers")
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", true, errors.New("the Authorization header is not a bearer token")
	}
	return strings.TrimSpace(tok), true, nil
}

// PublicPull reports whether anyone, without a token, may pull from repo
// (auth.public_repositories).
func (s *Service) PublicPull(repo string) bool {
	return s.publicPull(policy.Access{Type: policy.TypeRepository, Name: repo, Actions: []string{policy.ActionPull}})
}

// publicPull reports whether a is a pull of a public repository.
func (s *Service) publicPull(a policy.Access) bool {
	if a.Type != policy.TypeRepository || len(a.Actions) == 0 {
		return false
	}
	for _, act := range a.Actions {
		if act != policy.ActionPull {
			return false
		}
	}
	return slices.ContainsFunc(s.publicMatch, func(m policy.PatternMatcher) bool { return m.Match(a.Name) })
}

// grants reports whether the access claim covers every action of a.
func grants(claim []policy.Access, a policy.Access) bool {
	for _, act := range a.Actions {
		ok := slices.ContainsFunc(claim, func(g policy.Access) bool {
			return g.Type == a.Type && g.Name == a.Name && (slices.Contains(g.Actions, act) || slices.Contains(g.Actions, policy.ActionAll))
		})
		if !ok {
			return false
		}
	}
	return len(a.Actions) > 0
}

// challenge is the 401 that tells a client where to get a token and for
// which scope (RFC 6750 §3 as profiled by Docker token authentication).
// A push asks for pull too: clients need both for a push.
func (s *Service) challenge(r *http.Request, errCode string, a policy.Access, optional ...policy.Access) *registry.Error {
	v := `Bearer realm="` + realmFor(s.realm, r.Host) + `",service="` + s.service + `"`
	var scopes []policy.Access
	for _, x := range append([]policy.Access{a}, optional...) {
		if x.Name == "" {
			continue
		}
		actions := slices.Clone(x.Actions)
		if slices.Contains(actions, policy.ActionPush) && !slices.Contains(actions, policy.ActionPull) {
			actions = append([]string{policy.ActionPull}, actions...)
		}
		scopes = append(scopes, policy.Access{Type: x.Type, Name: x.Name, Actions: actions})
	}
	if len(scopes) > 0 {
		v += `,scope="` + policy.FormatScopes(scopes) + `"`
	}
	if errCode != "" {
		v += `,error="` + errCode + `"`
	}
	msg := "authentication required"
	if errCode == "insufficient_scope" {
		msg = "the token does not grant this action"
	}
	return &registry.Error{
		Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: msg,
		Header: http.Header{"Www-Authenticate": {v}},
	}
}

// realmFor is realm, or, when realm's host is a loopback name and the
// request came for another loopback name on the same port, realm on the
// request's name (see WithRealm).
func realmFor(realm, requestHost string) string {
	u, err := url.Parse(realm)
	if err != nil || !isLoopbackName(u.Hostname()) || strings.EqualFold(u.Host, requestHost) {
		return realm
	}
	host, port, err := net.SplitHostPort(requestHost)
	if err != nil || port != u.Port() || !isLoopbackName(host) {
		return realm
	}
	u.Host = strings.ToLower(requestHost)
	return u.String()
}

// isLoopbackName reports whether host is localhost or a loopback address.
func isLoopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
