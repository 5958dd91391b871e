package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
)

// Token lifetimes. Access tokens are short: a leaked one is worth minutes.
// Session tokens stand in for a login and are capped by configuration.
const (
	DefaultAccessTokenTTL  = 5 * time.Minute
	DefaultSessionTTL      = time.Hour
	DefaultMaxSessionTTL   = 12 * time.Hour
	maxAuthorizationHeader = 16<<10 + 64
)

// signer is the registry's own issuer: it signs the tokens this service
// hands out and verifies them when they come back.
type signer interface {
	Sign(ctx context.Context, c issuer.Claims) (string, error)
	Verify(ctx context.Context, raw, audience string) (*issuer.Claims, error)
}

// upstreamVerifier verifies tokens of other issuers (a CI platform's, a
// person's identity provider's).
type upstreamVerifier interface {
	Verify(ctx context.Context, raw string, want upstream.Expectation) (*upstream.Token, error)
}

// Service is the token service: it verifies the bearer tokens in front of
// every registry route (Authorize), answers the Docker token endpoint
// (/token) and exchanges upstream ID tokens for session tokens
// (/oauth/token, RFC 8693).
type Service struct {
	signer      signer
	discovery   upstreamVerifier // upstream issuers whose keys are discovered
	newStatic   func(upstream.Issuer) (upstreamVerifier, error)
	log         *slog.Logger
	now         func() time.Time
	service     string
	realm       string
	public      []RepositoryPattern
	accessTTL   time.Duration
	sessionTTL  time.Duration
	maxSession  time.Duration
	identities  []Identity
	sources     []*keySource
	matcherByID map[string]*Matcher
	rolesByID   map[string][]RoleBinding
}

// keySource is one way upstream tokens are verified: an issuer's
// published keys, or one identity's static keys. An identity only matches
// tokens its own key source verified (Token.Keys).
type keySource struct {
	verifier  upstreamVerifier
	issuers   []string
	keys      JWKS
	audiences []string
	matchers  []*Matcher
}

// ServiceOption configures NewService.
type ServiceOption func(*Service)

// WithSigner sets the registry's own issuer. Required.
func WithSigner(s signer) ServiceOption { return func(v *Service) { v.signer = s } }

// WithUpstream sets the verifier for issuers whose keys are discovered
// over HTTPS; static-key identities get verifiers of their own.
func WithUpstream(u upstreamVerifier) ServiceOption { return func(v *Service) { v.discovery = u } }

// WithServiceName sets the "service" of challenges and the audience of
// access tokens and, by default, of upstream tokens. Required.
func WithServiceName(name string) ServiceOption { return func(v *Service) { v.service = name } }

// WithRealm sets the token endpoint URL announced in challenges, e.g.
// https://registry.example.com/token. Required.
func WithRealm(url string) ServiceOption { return func(v *Service) { v.realm = url } }

// WithPublicRepositories lets anyone pull, without a token, from
// repositories matching the patterns.
func WithPublicRepositories(ps ...RepositoryPattern) ServiceOption {
	return func(v *Service) { v.public = append(v.public, ps...) }
}

// WithIdentities sets the identities whose upstream tokens are accepted.
func WithIdentities(ids ...Identity) ServiceOption {
	return func(v *Service) { v.identities = append(v.identities, ids...) }
}

// WithTokenLifetimes sets the access token lifetime, the default session
// lifetime and the longest session a client may ask for.
func WithTokenLifetimes(access, session, maxSession time.Duration) ServiceOption {
	return func(v *Service) { v.accessTTL, v.sessionTTL, v.maxSession = access, session, maxSession }
}

// WithServiceLogger sets the logger; causes of refusals go there, never
// to clients.
func WithServiceLogger(l *slog.Logger) ServiceOption { return func(v *Service) { v.log = l } }

// WithServiceClock sets the clock, for tests.
func WithServiceClock(now func() time.Time) ServiceOption { return func(v *Service) { v.now = now } }

// withStaticVerifiers replaces how static-key verifiers are built, for tests.
func withStaticVerifiers(f func(upstream.Issuer) (upstreamVerifier, error)) ServiceOption {
	return func(v *Service) { v.newStatic = f }
}

// NewService validates the configuration and the identities and returns
// the token service.
func NewService(opts ...ServiceOption) (*Service, error) {
	s := &Service{
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
		accessTTL:  DefaultAccessTokenTTL,
		sessionTTL: DefaultSessionTTL,
		maxSession: DefaultMaxSessionTTL,
		newStatic: func(is upstream.Issuer) (upstreamVerifier, error) {
			p, err := upstream.StaticIssuers(is)
			if err != nil {
				return nil, err
			}
			return upstream.New(upstream.WithIssuers(p)), nil
		},
	}
	for _, o := range opts {
		o(s)
	}
	switch {
	case s.signer == nil:
		return nil, errors.New("token service: a signer is required")
	case s.service == "":
		return nil, errors.New("token service: a service name is required")
	case s.realm == "":
		return nil, errors.New("token service: a realm URL is required")
	case s.accessTTL <= 0 || s.sessionTTL <= 0 || s.maxSession < s.sessionTTL:
		return nil, errors.New("token service: token lifetimes must be positive, the session default within its maximum")
	}
	for _, p := range s.public {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("public repositories: %w", err)
		}
	}
	if err := s.compile(); err != nil {
		return nil, err
	}
	return s, nil
}

// compile validates the identities and groups them by key source.
func (s *Service) compile() error {
	ms, err := CompileAll(s.identities, IdentityOptions{Audience: s.service})
	if err != nil {
		return err
	}
	s.matcherByID = make(map[string]*Matcher, len(ms))
	s.rolesByID = make(map[string][]RoleBinding, len(ms))
	var discovered *keySource
	for i, m := range ms {
		id := s.identities[i]
		s.matcherByID[id.ID] = m
		s.rolesByID[id.ID] = slices.Clone(id.Roles)
		if len(id.IssuerKeys) > 0 {
			v, err := s.newStatic(upstream.Issuer{URL: id.Issuer, JWKS: []byte(id.IssuerKeys)})
			if err != nil {
				return fmt.Errorf("identity %s: %w", id.ID, err)
			}
			s.sources = append(s.sources, &keySource{verifier: v, issuers: []string{id.Issuer},
				keys: id.IssuerKeys, audiences: []string{m.Audience()}, matchers: []*Matcher{m}})
			continue
		}
		if s.discovery == nil {
			return fmt.Errorf("identity %s: issuer %s has no static keys and no upstream verifier is configured", id.ID, id.Issuer)
		}
		if discovered == nil {
			discovered = &keySource{verifier: s.discovery}
			s.sources = append(s.sources, discovered)
		}
		if !slices.Contains(discovered.issuers, id.Issuer) {
			discovered.issuers = append(discovered.issuers, id.Issuer)
		}
		if !slices.Contains(discovered.audiences, m.Audience()) {
			discovered.audiences = append(discovered.audiences, m.Audience())
		}
		discovered.matchers = append(discovered.matchers, m)
	}
	return nil
}

// sessionAudience is the audience of session tokens: distinct from the
// access-token audience, so that neither passes for the other.
func (s *Service) sessionAudience() string { return s.service + "#session" }

// principal is who a request's credentials name.
type principal struct {
	identities []string      // matched identity ids; empty for anonymous
	actor      *issuer.Actor // the upstream iss/sub, when known
}

// errUnavailable marks failures the client may retry (an upstream issuer
// is down): the token endpoints answer 503.
var errUnavailable = errors.New("temporarily unavailable")

// errBadCredentials is every refusal of a credential: clients learn only
// this, the cause goes to the log.
var errBadCredentials = errors.New("invalid credentials")

// authenticate resolves a credential: a session token of ours, or an
// upstream ID token some identity accepts. An empty credential is
// anonymous.
func (s *Service) authenticate(ctx context.Context, cred string) (*principal, error) {
	if cred == "" {
		return &principal{}, nil
	}
	if len(cred) > upstream.MaxTokenSize {
		return nil, fmt.Errorf("%w: credential of %d bytes", errBadCredentials, len(cred))
	}
	if c, err := s.signer.Verify(ctx, cred, s.sessionAudience()); err == nil {
		if _, ok := s.rolesByID[c.Subject]; !ok {
			return nil, fmt.Errorf("%w: session for identity %q, which no longer exists", errBadCredentials, c.Subject)
		}
		return &principal{identities: []string{c.Subject}, actor: c.Actor}, nil
	}
	results, tok, err := s.matchUpstream(ctx, cred)
	if err != nil {
		return nil, err
	}
	p := &principal{actor: &issuer.Actor{Issuer: tok.Issuer, Subject: tok.Subject}}
	for _, r := range results {
		if r.Matched && !slices.Contains(p.identities, r.ID) {
			p.identities = append(p.identities, r.ID)
		}
	}
	if len(p.identities) == 0 {
		return nil, fmt.Errorf("%w: token of %s for %q matches no identity", errBadCredentials, tok.Issuer, tok.Subject)
	}
	return p, nil
}

// matchUpstream verifies raw with each key source and audience that could
// accept it and matches the verified token against that source's
// identities. It returns the results of the first source that verified
// the token.
func (s *Service) matchUpstream(ctx context.Context, raw string) ([]Result, *upstream.Token, error) {
	var causes []string
	retry := false
	var first *upstream.Token
	var results []Result
	for _, src := range s.sources {
		for _, aud := range src.audiences {
			tok, err := src.verifier.Verify(ctx, raw, upstream.Expectation{Issuers: src.issuers, Audience: aud})
			if err != nil {
				retry = retry || upstream.Retryable(err)
				causes = append(causes, err.Error())
				continue
			}
			if first == nil {
				first = tok
			}
			results = append(results, Match(src.matchers, Token{Issuer: tok.Issuer, Keys: src.keys, Claims: tok.Claims})...)
		}
	}
	if first != nil {
		return results, first, nil
	}
	if retry {
		return nil, nil, fmt.Errorf("%w: %s", errUnavailable, strings.Join(causes, "; "))
	}
	if len(causes) == 0 {
		causes = append(causes, "no identities are configured")
	}
	return nil, nil, fmt.Errorf("%w: %s", errBadCredentials, strings.Join(causes, "; "))
}

// bindings returns the role bindings of the principal's identities.
func (s *Service) bindings(p *principal) []RoleBinding {
	var out []RoleBinding
	for _, id := range p.identities {
		out = append(out, s.rolesByID[id]...)
	}
	return out
}

// publicBindings is what anyone may do: pull public repositories.
func (s *Service) publicBindings() []RoleBinding {
	if len(s.public) == 0 {
		return nil
	}
	return []RoleBinding{{Role: RoleViewer, Repositories: s.public}}
}

// Handler serves the token endpoints: /token (Docker token
// authentication, GET and the OAuth2 POST variant) and /oauth/token (RFC
// 8693 token exchange).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/token", s.serveToken)
	mux.HandleFunc("/oauth/token", s.serveExchange)
	return mux
}
