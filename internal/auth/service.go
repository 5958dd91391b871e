// Package auth is the registry's token service: it authenticates
// credentials (session tokens of the registry's own issuer, upstream OIDC
// tokens some identity accepts), mints access and session tokens within
// what internal/policy grants, answers /token (Docker token
// authentication) and /oauth/token (RFC 8693 token exchange), authorizes
// every registry request (registry.Authorizer) and keeps the identities
// created through the management API under /api/v1/.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/ratelimit"
	"github.com/chainctl/chainctl/internal/store"
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
	signer    signer
	discovery upstreamVerifier // upstream issuers whose keys are discovered
	// discover and discoveryOpts build discovery (WithDiscovery).
	discover      bool
	discoveryOpts []upstream.Option
	login         *LoginConfig // served at LoginConfigPath, when set
	newStatic     func(upstream.Issuer) (upstreamVerifier, error)
	log           *slog.Logger
	now           func() time.Time
	service       string
	realm         string
	public        []policy.RepositoryPattern
	publicMatch   []policy.PatternMatcher // public, parsed once
	accessTTL     time.Duration
	sessionTTL    time.Duration
	maxSession    time.Duration
	identities    []policy.Identity // from the configuration: read-only
	idStore       IdentityStore
	refresh       time.Duration // how often idStore's version is checked

	// state is the compiled identities, swapped whole on every change so
	// that readers never lock.
	state atomic.Pointer[compiled]
	// idCheck is when idStore's version was last checked.
	idCheck refreshClock
	// mu serializes loads of idStore and the API's writes.
	mu sync.Mutex

	// Pull tokens (WithPullTokens): the store, the longest lifetime, the
	// live tokens as last read (for Authorize), when they were read, and
	// the limits on failed attempts.
	ptStore                      store.PullTokens
	ptMaxTTL                     time.Duration
	ptRefresh                    time.Duration
	ptState                      atomic.Pointer[pullTokenSet]
	ptVersion                    *freshRead
	ptCheck                      refreshClock
	ptMu                         sync.Mutex
	ptLimitPerID, ptLimitPerAddr int
	ptLimitWindow                time.Duration
	ptLimits                     pullTokenLimits
}

// refreshClock is when something was last read from the store, so that
// one request in an interval reads it again.
type refreshClock struct{ last atomic.Int64 } // Unix nanos

// mark records a read at now.
func (c *refreshClock) mark(now time.Time) { c.last.Store(now.UnixNano()) }

// claim reports whether a read is due at now, every interval, and if so
// claims it: of the callers that find it due, one gets true.
func (c *refreshClock) claim(now time.Time, every time.Duration) bool {
	last, n := c.last.Load(), now.UnixNano()
	if last != 0 && n-last < int64(every) && n >= last {
		return false
	}
	return c.last.CompareAndSwap(last, n)
}

// compiled is one immutable generation of the identities: the
// configuration's and, with an identity store, the stored ones.
type compiled struct {
	loaded    bool  // the identity store has been read
	version   int64 // the identity store's version that was read
	matchers  []*policy.Matcher
	sources   []*keySource
	sourceOf  map[string]*keySource
	rolesByID map[string][]policy.RoleBinding
	// incarnation is each identity's current incarnation (see
	// incarnation.go), by id.
	incarnation map[string]string
	stored      map[string]store.StoredIdentity // the API's identities, by id (Document unset)
	discovered  []string                        // issuers whose keys are discovered
	configured  []string                        // of those, the ones a configured identity names

	discoveredSource *keySource // the source of discovered issuers, if any
}

// keySource is one way upstream tokens are verified: an issuer's
// published keys, or one identity's static keys. An identity only matches
// tokens its own key source verified (Token.Keys).
type keySource struct {
	verifier  upstreamVerifier
	issuers   []string
	keys      policy.JWKS
	audiences []string
	matchers  []*policy.Matcher
}

// ServiceOption configures NewService.
type ServiceOption func(*Service)

// WithSigner sets the registry's own issuer. Required.
func WithSigner(s signer) ServiceOption { return func(v *Service) { v.signer = s } }

// WithUpstream sets the verifier for issuers whose keys are discovered
// over HTTPS; static-key identities get verifiers of their own.
func WithUpstream(u upstreamVerifier) ServiceOption { return func(v *Service) { v.discovery = u } }

// WithDiscovery makes the service verify the tokens of issuers whose keys
// are discovered over HTTPS with a verifier of its own, built with opts
// and asking the service (LookupIssuer) which issuers its identities name:
// no other issuer is ever fetched. WithUpstream replaces it.
func WithDiscovery(opts ...upstream.Option) ServiceOption {
	return func(v *Service) { v.discover, v.discoveryOpts = true, opts }
}

// WithLoginConfig serves c at LoginConfigPath (see Routes).
func WithLoginConfig(c LoginConfig) ServiceOption { return func(v *Service) { v.login = &c } }

// WithServiceName sets the "service" of challenges and the audience of
// access tokens and, by default, of upstream tokens. Required.
func WithServiceName(name string) ServiceOption { return func(v *Service) { v.service = name } }

// WithRealm sets the token endpoint URL announced in challenges, e.g.
// https://registry.example.com/token. Required.
//
// When its host is a loopback address or localhost (a registry on this
// machine, such as `chainctl registry serve --dev`'s), a request that
// reached the registry by another loopback name with the same port is
// answered with a realm on the name it used: oras refuses a realm on a
// loopback host other than the registry's (127.0.0.1 for localhost:5000),
// and localhost is the name docker, crane and oras reach over plain HTTP
// without flags. Only loopback names are ever taken from the request.
func WithRealm(url string) ServiceOption { return func(v *Service) { v.realm = url } }

// WithPublicRepositories lets anyone pull, without a token, from
// repositories matching the patterns.
func WithPublicRepositories(ps ...policy.RepositoryPattern) ServiceOption {
	return func(v *Service) { v.public = append(v.public, ps...) }
}

// WithIdentities sets the identities whose upstream tokens are accepted.
func WithIdentities(ids ...policy.Identity) ServiceOption {
	return func(v *Service) { v.identities = append(v.identities, ids...) }
}

// IdentityStore is what the token service needs of the metadata store:
// the identities created through the API, with store.Identities'
// semantics.
type IdentityStore interface {
	PutIdentity(ctx context.Context, id store.StoredIdentity) error
	ListIdentities(ctx context.Context) ([]store.StoredIdentity, error)
	DeleteIdentity(ctx context.Context, id string) error
	// IdentitiesVersion changes whenever an identity is put or deleted.
	IdentitiesVersion(ctx context.Context) (int64, error)
}

// WithIdentityStore adds the identities kept in st (those created through
// /api/v1/identities) to the configured ones, and lets the API create and
// delete them. Changes made through this service apply at once; changes
// by other replicas are noticed within DefaultIdentityRefresh.
func WithIdentityStore(st IdentityStore) ServiceOption {
	return func(v *Service) { v.idStore = st }
}

// DefaultIdentityRefresh is how often the identity store is checked for
// other replicas' changes.
const DefaultIdentityRefresh = 30 * time.Second

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

// NewService validates the configuration and the identities and returns
// the token service.
func NewService(opts ...ServiceOption) (*Service, error) {
	s := &Service{
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
		accessTTL:  DefaultAccessTokenTTL,
		sessionTTL: DefaultSessionTTL,
		maxSession: DefaultMaxSessionTTL,
		refresh:    DefaultIdentityRefresh,
		ptMaxTTL:   DefaultPullTokenMaxTTL,
		ptRefresh:  DefaultPullTokenRefresh,

		ptLimitPerID:   DefaultPullTokenFailuresPerID,
		ptLimitPerAddr: DefaultPullTokenFailuresPerAddr,
		ptLimitWindow:  DefaultPullTokenFailureWindow,
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
	if s.discovery == nil && s.discover {
		// The issuers option goes last, so that it is the one that holds.
		opts := append(slices.Clone(s.discoveryOpts), upstream.WithIssuers(upstream.IssuerProviderFunc(s.LookupIssuer)))
		s.discovery = upstream.New(opts...)
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
		s.publicMatch = append(s.publicMatch, p.Compile())
	}
	if s.ptLimitPerID <= 0 || s.ptLimitPerAddr <= 0 || s.ptLimitWindow <= 0 {
		return nil, errors.New("token service: pull token failure limits must be positive")
	}
	s.ptLimits = pullTokenLimits{
		byID:   ratelimit.New(s.ptLimitPerID, s.ptLimitWindow, ratelimit.WithClock(s.now)),
		byAddr: ratelimit.New(s.ptLimitPerAddr, s.ptLimitWindow, ratelimit.WithClock(s.now)),
	}
	c, err := s.compile(nil)
	if err != nil {
		return nil, err
	}
	s.state.Store(c)
	s.ptState.Store(&pullTokenSet{})
	if s.ptStore != nil {
		s.ptVersion = &freshRead{read: s.ptStore.PullTokensVersion}
	}
	return s, nil
}

// compile validates the configured identities, adds the stored ones and
// groups them by key source. A bad configured identity is an error; a
// stored one that no longer compiles (the configuration changed under
// it) is logged and left out, so that it cannot take the others down.
func (s *Service) compile(stored []store.StoredIdentity) (*compiled, error) {
	ms, err := policy.CompileAll(s.identities, policy.IdentityOptions{Audience: s.service})
	if err != nil {
		return nil, err
	}
	c := &compiled{
		sourceOf:    map[string]*keySource{},
		rolesByID:   map[string][]policy.RoleBinding{},
		incarnation: map[string]string{},
		stored:      map[string]store.StoredIdentity{},
	}
	for _, m := range ms {
		if err := s.add(c, m, true, configuredIncarnation(m.Identity())); err != nil {
			return nil, err
		}
	}
	for _, st := range stored {
		m, err := s.compileStored(c, st)
		if err == nil && st.Incarnation == "" {
			err = errors.New("it has no incarnation")
		}
		if err == nil {
			err = s.add(c, m, false, st.Incarnation)
		}
		if err != nil {
			s.log.Warn("ignoring a stored identity", "identity", st.ID, "err", err)
			continue
		}
		st.Document = nil
		c.stored[st.ID] = st
	}
	return c, nil
}

// compileStored decodes and compiles an identity of the store.
func (s *Service) compileStored(c *compiled, st store.StoredIdentity) (*policy.Matcher, error) {
	var id policy.Identity
	if err := json.Unmarshal(st.Document, &id); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if id.ID != st.ID {
		return nil, fmt.Errorf("document names identity %q", id.ID)
	}
	if _, dup := c.rolesByID[id.ID]; dup {
		return nil, errors.New("the configuration defines an identity with this id")
	}
	return id.Compile(policy.IdentityOptions{Audience: s.service})
}

// add puts a compiled identity into c, with the key source that verifies
// its tokens, as incarnation inc. configured says it comes from the
// server's configuration rather than from the identities API.
func (s *Service) add(c *compiled, m *policy.Matcher, configured bool, inc string) error {
	id := m.Identity()
	if len(id.IssuerKeys) > 0 {
		v, err := s.newStatic(upstream.Issuer{URL: id.Issuer, JWKS: []byte(id.IssuerKeys)})
		if err != nil {
			return fmt.Errorf("identity %s: %w", id.ID, err)
		}
		src := &keySource{verifier: v, issuers: []string{id.Issuer},
			keys: id.IssuerKeys, audiences: []string{m.Audience()}, matchers: []*policy.Matcher{m}}
		c.sources = append(c.sources, src)
		c.sourceOf[id.ID] = src
	} else {
		if s.discovery == nil {
			return fmt.Errorf("identity %s: issuer %s has no static keys and no upstream verifier is configured", id.ID, id.Issuer)
		}
		discovered := c.discoveredSource
		if discovered == nil {
			discovered = &keySource{verifier: s.discovery}
			c.discoveredSource = discovered
			c.sources = append(c.sources, discovered)
		}
		if !slices.Contains(discovered.issuers, id.Issuer) {
			discovered.issuers = append(discovered.issuers, id.Issuer)
			c.discovered = append(c.discovered, id.Issuer)
		}
		if configured && !slices.Contains(c.configured, id.Issuer) {
			c.configured = append(c.configured, id.Issuer)
		}
		if !slices.Contains(discovered.audiences, m.Audience()) {
			discovered.audiences = append(discovered.audiences, m.Audience())
		}
		discovered.matchers = append(discovered.matchers, m)
		c.sourceOf[id.ID] = discovered
	}
	c.matchers = append(c.matchers, m)
	c.rolesByID[id.ID] = slices.Clone(id.Roles)
	c.incarnation[id.ID] = inc
	return nil
}

// RefreshIdentities reads the identity store again if its version
// changed since the last read, and recompiles. Without an identity store
// it does nothing. The token endpoints call it themselves every
// DefaultIdentityRefresh; serve calls it at startup to fail early.
func (s *Service) RefreshIdentities(ctx context.Context) error {
	if s.idStore == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked(ctx, false)
}

// reloadLocked reads the identity store (if its version changed, or
// always when force is set) and swaps in the new generation. s.mu is held.
func (s *Service) reloadLocked(ctx context.Context, force bool) error {
	s.idCheck.mark(s.now())
	v, err := s.idStore.IdentitiesVersion(ctx)
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	if cur := s.state.Load(); !force && cur.loaded && cur.version == v {
		return nil
	}
	list, err := s.idStore.ListIdentities(ctx)
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	c, err := s.compile(list)
	if err != nil {
		return err
	}
	c.loaded, c.version = true, v
	s.state.Store(c)
	return nil
}

// maybeRefresh checks the identity store for other replicas' changes
// when the last check is older than the refresh interval. One caller does
// the check; the others go on with the current generation.
func (s *Service) maybeRefresh(ctx context.Context) {
	if s.idStore == nil || !s.idCheck.claim(s.now(), s.refresh) {
		return
	}
	if err := s.RefreshIdentities(ctx); err != nil {
		s.log.WarnContext(ctx, "refresh identities", "err", err)
	}
}

// LookupIssuer implements upstream.IssuerProvider for the issuers whose
// keys are discovered: exactly those of the current identities, so that
// only issuers an identity names are ever fetched. An issuer that only
// identities created through the API name is fetched from public
// addresses only (upstream.Issuer.PublicOnly): the API refuses literal
// internal addresses when the identity is created, and this refuses host
// names that resolve to one, then or later. The server's configuration
// may name issuers on the operator's own network.
func (s *Service) LookupIssuer(_ context.Context, iss string) (upstream.Issuer, bool, error) {
	c := s.state.Load()
	if slices.Contains(c.discovered, iss) {
		return upstream.Issuer{URL: iss, PublicOnly: !slices.Contains(c.configured, iss)}, true, nil
	}
	return upstream.Issuer{}, false, nil
}

// sessionAudience is the audience of session tokens: distinct from the
// access-token audience, so that neither passes for the other.
func (s *Service) sessionAudience() string { return s.service + "#session" }

// authenticated is who a credential names, with what it may do.
type authenticated struct {
	identities   []string             // matched identity ids; empty for anonymous
	incarnations map[string]string    // of those identities, when they were matched
	actor        *issuer.Actor        // the upstream iss/sub, when known
	bindings     []policy.RoleBinding // the role bindings of the identities
	// pullToken is the id of the pull token authenticated, if one was;
	// notAfter its expiry, which caps the access token's.
	pullToken string
	notAfter  time.Time
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
func (s *Service) authenticate(ctx context.Context, cred string) (*authenticated, error) {
	if cred == "" {
		return &authenticated{}, nil
	}
	if len(cred) > upstream.MaxTokenSize {
		return nil, fmt.Errorf("%w: credential of %d bytes", errBadCredentials, len(cred))
	}
	st := s.state.Load()
	if c, err := s.signer.Verify(ctx, cred, s.sessionAudience()); err == nil {
		roles, ok := st.sessionIdentity(c)
		if !ok {
			return nil, fmt.Errorf("%w: session for identity %q, which no longer exists as the identity it was issued to", errBadCredentials, c.Subject)
		}
		return &authenticated{identities: []string{c.Subject}, incarnations: c.Incarnations, actor: c.Actor, bindings: roles}, nil
	}
	results, tok, err := s.matchUpstream(ctx, st, cred)
	if err != nil {
		return nil, err
	}
	p := &authenticated{actor: &issuer.Actor{Issuer: tok.Issuer, Subject: tok.Subject}}
	for _, r := range results {
		if r.Matched && !slices.Contains(p.identities, r.ID) {
			p.identities = append(p.identities, r.ID)
			p.bindings = append(p.bindings, st.rolesByID[r.ID]...)
		}
	}
	if len(p.identities) == 0 {
		return nil, fmt.Errorf("%w: token of %s for %q matches no identity", errBadCredentials, tok.Issuer, tok.Subject)
	}
	p.incarnations = st.incarnationsOf(p.identities)
	return p, nil
}

// matchUpstream verifies raw with each key source and audience that could
// accept it and matches the verified token against that source's
// identities. It returns the results of the first source that verified
// the token.
func (s *Service) matchUpstream(ctx context.Context, st *compiled, raw string) ([]policy.Result, *upstream.Token, error) {
	var causes []string
	retry := false
	var first *upstream.Token
	var results []policy.Result
	for _, src := range st.sources {
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
			results = append(results, policy.Match(src.matchers, policy.Token{Issuer: tok.Issuer, Keys: src.keys, Claims: tok.Claims})...)
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

// publicBindings is what anyone may do: pull public repositories.
func (s *Service) publicBindings() []policy.RoleBinding {
	if len(s.public) == 0 {
		return nil
	}
	return []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: s.public}}
}

// Route is an endpoint of the service: where it is mounted, the name
// metrics and logs know it by, and its handler.
type Route struct {
	Path, Name string
	Handler    http.Handler
}

// Routes are the service's endpoints, the one place they are listed:
// /token (Docker token authentication, GET and the OAuth2 POST variant),
// /oauth/token (RFC 8693 token exchange) and, with WithLoginConfig,
// LoginConfigPath. The management API over the service's identity
// operations is internal/apiv1's.
func (s *Service) Routes() []Route {
	routes := []Route{
		{Path: "/token", Name: "token", Handler: http.HandlerFunc(s.serveToken)},
		{Path: "/oauth/token", Name: "token-exchange", Handler: http.HandlerFunc(s.serveExchange)},
	}
	if s.login != nil {
		routes = append(routes, Route{Path: LoginConfigPath, Name: "oidc", Handler: LoginConfigHandler(*s.login)})
	}
	return routes
}

// Handler serves Routes on one mux.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.Routes() {
		mux.Handle(r.Path, r.Handler)
	}
	return mux
}
