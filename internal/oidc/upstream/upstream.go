// Package upstream verifies ID tokens minted by upstream OIDC issuers: a CI
// platform's workload tokens, or a person's login at an identity provider.
//
// Upstream issuers form an allow-list. A token names its issuer, but the
// verifier only ever contacts an issuer that is both acceptable to the caller
// (Expectation.Issuers) and configured (the IssuerProvider); anything else is
// refused before a single request is made, so no token can make the server
// fetch from an address it was not configured with.
//
// Keys come either from discovery (<issuer>/.well-known/openid-configuration,
// then its jwks_uri) or from a JWKS given in configuration, for issuers the
// registry cannot reach. Fetches are bounded in time and size, refuse
// redirects to other hosts, require HTTPS except on loopback, and are cached
// per issuer; a token with an unknown key id causes at most one refetch per
// issuer per refetch interval, shared by all concurrent callers.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/egress"
)

const (
	// MaxTokenSize caps the size of a raw token, before any parsing.
	MaxTokenSize = 16 << 10
	// MaxClockSkew is the leeway granted on exp, nbf and iat.
	MaxClockSkew = 60 * time.Second

	defaultFetchTimeout    = 10 * time.Second
	defaultRefetchInterval = 30 * time.Second
	defaultKeyTTL          = time.Hour
)

// Errors returned by Verify. Every error wraps exactly one of ErrInvalidToken,
// ErrIssuer or ErrUnavailable, so a token endpoint can answer 401 for the
// first two and 503 (retry later) for the last; see Retryable.
var (
	// ErrInvalidToken means the token itself is unacceptable: malformed,
	// badly signed, from an issuer that is not allowed, or with claims that
	// do not hold. Retrying with the same token cannot succeed.
	ErrInvalidToken = errors.New("invalid token")
	// ErrIssuerNotAllowed accompanies ErrInvalidToken when the token's iss is
	// not an allowed, configured issuer. No request was made for it.
	ErrIssuerNotAllowed = errors.New("issuer not allowed")
	// ErrIssuer means the configured issuer answered, but unusably: its
	// discovery document names another issuer, a response was too large or
	// malformed, a redirect left its host, a URL is not HTTPS. Retrying soon
	// will not help; the issuer or the configuration must change.
	ErrIssuer = errors.New("issuer unusable")
	// ErrUnavailable means the issuer's keys could not be fetched for a
	// reason that may pass: a timeout, a network error, a 5xx or 429 answer.
	ErrUnavailable = errors.New("issuer unavailable")
)

// Retryable reports whether err is transient: the same token may verify later.
func Retryable(err error) bool { return errors.Is(err, ErrUnavailable) }

// Expectation is what the caller accepts for one verification.
type Expectation struct {
	// Issuers lists the acceptable iss values, compared exactly. Each must
	// also be known to the verifier's IssuerProvider. Empty accepts nothing.
	Issuers []string
	// Audience must be one of the token's aud values, compared exactly.
	// It is required.
	Audience string
}

// Token is a verified token.
type Token struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time
	IssuedAt  time.Time // zero when the token has no iat
	NotBefore time.Time // zero when the token has no nbf
	KeyID     string
	Algorithm string
	// Claims holds every claim of the payload; JSON numbers are json.Number.
	Claims map[string]any
}

// Verifier verifies upstream ID tokens. It is safe for concurrent use.
type Verifier struct {
	log             *slog.Logger
	client          *http.Client
	public          *http.Client // for Issuer.PublicOnly; built from client
	now             func() time.Time
	issuers         IssuerProvider
	fetchTimeout    time.Duration
	refetchInterval time.Duration
	keyTTL          time.Duration

	mu    sync.Mutex
	cache map[string]*issuerKeys // by issuer URL
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(v *Verifier) {
		if l != nil {
			v.log = l
		}
	}
}

// WithTransport sets the transport used for discovery and JWKS fetches,
// e.g. an httptest.Server's client transport that trusts its certificate.
// The verifier keeps its own redirect policy, timeouts and size caps.
func WithTransport(rt http.RoundTripper) Option {
	return func(v *Verifier) {
		if rt != nil {
			v.client.Transport = rt
		}
	}
}

// WithClock sets the source of the current time.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithIssuers sets the configured issuers. Without it no issuer is known and
// every token is refused.
func WithIssuers(p IssuerProvider) Option {
	return func(v *Verifier) { v.issuers = p }
}

// WithFetchTimeout bounds one discovery-plus-JWKS fetch (default 10 s).
func WithFetchTimeout(d time.Duration) Option {
	return func(v *Verifier) {
		if d > 0 {
			v.fetchTimeout = d
			v.client.Timeout = d
		}
	}
}

// New returns a Verifier.
func New(opts ...Option) *Verifier {
	v := &Verifier{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		client: &http.Client{
			Transport:     defaultTransport(),
			CheckRedirect: checkRedirect,
			Timeout:       defaultFetchTimeout,
		},
		now:             time.Now,
		issuers:         noIssuers{},
		fetchTimeout:    defaultFetchTimeout,
		refetchInterval: defaultRefetchInterval,
		keyTTL:          defaultKeyTTL,
		cache:           map[string]*issuerKeys{},
	}
	for _, o := range opts {
		o(v)
	}
	if v.issuers == nil {
		v.issuers = noIssuers{}
	}
	v.public = &http.Client{
		Transport:     egress.PublicOnly(v.client.Transport, egress.WithDialTimeout(defaultFetchTimeout)),
		CheckRedirect: v.client.CheckRedirect,
		Timeout:       v.client.Timeout,
	}
	return v
}

// Verify checks raw against want and the configured issuers and returns its
// claims. See the package documentation for what is checked.
func (v *Verifier) Verify(ctx context.Context, raw string, want Expectation) (*Token, error) {
	if want.Audience == "" {
		return nil, errors.New("verify upstream token: expectation has no audience")
	}
	h, iss, err := inspect(raw)
	if err != nil {
		return nil, err
	}
	// The token is untrusted until its signature checks out; iss only picks
	// which configured issuer's keys to try, and must be allowed before
	// anything is fetched.
	if !slices.Contains(want.Issuers, iss) {
		return nil, fmt.Errorf("%w: %w: %q", ErrInvalidToken, ErrIssuerNotAllowed, iss)
	}
	is, ok, err := v.issuers.LookupIssuer(ctx, iss)
	if err != nil {
		return nil, fmt.Errorf("%w: look up issuer %q: %w", ErrUnavailable, iss, err)
	}
	if !ok || is.URL != iss {
		return nil, fmt.Errorf("%w: %w: %q is not configured", ErrInvalidToken, ErrIssuerNotAllowed, iss)
	}
	// Static keys are checked where they are parsed, once per change.
	if err := validateIssuerURL(is.URL); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIssuer, err)
	}

	jws, err := jose.ParseSignedCompact(raw, allowedAlgorithms())
	if err != nil {
		return nil, fmt.Errorf("%w: parse: %w", ErrInvalidToken, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature, have %d", ErrInvalidToken, len(jws.Signatures))
	}
	keys, err := v.keys(ctx, is, h.kid, h.alg)
	if err != nil {
		return nil, err
	}
	payload, err := verifySignature(jws, keys)
	if err != nil {
		return nil, err
	}
	tok, err := checkClaims(payload, iss, want.Audience, v.now())
	if err != nil {
		return nil, err
	}
	tok.KeyID, tok.Algorithm = h.kid, string(h.alg)
	return tok, nil
}

// verifySignature returns the payload if one of keys signed jws.
func verifySignature(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, error) {
	for _, k := range keys {
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("%w: signature does not verify", ErrInvalidToken)
}

type noIssuers struct{}

func (noIssuers) LookupIssuer(context.Context, string) (Issuer, bool, error) {
	return Issuer{}, false, nil
}
