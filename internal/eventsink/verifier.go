package eventsink

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chainctl/chainctl/internal/events"
)

// Defaults of the options.
const (
	// DefaultRefetchInterval: a token naming a key id the verifier does
	// not know refetches the registry's keys at most this often, so that
	// forged kids cannot make every delivery a fetch.
	DefaultRefetchInterval = 30 * time.Second
	// DefaultFetchTimeout bounds the fetch of the discovery document and
	// the JWKS together.
	DefaultFetchTimeout = 10 * time.Second
)

// Option configures New.
type Option func(*Verifier)

// WithHTTPClient sets the client that fetches the discovery document and
// the JWKS; the default is a client with a timeout. Redirects are followed
// only within the same scheme and host, whatever the client's policy.
func WithHTTPClient(c *http.Client) Option {
	return func(v *Verifier) {
		if c != nil {
			v.client = c
		}
	}
}

// WithClock sets the clock tokens are checked against, for tests.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithRefetchInterval sets how often an unknown key id may refetch the
// keys (DefaultRefetchInterval).
func WithRefetchInterval(d time.Duration) Option { return func(v *Verifier) { v.refetch = d } }

// WithLogger sets the logger for key fetches; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(v *Verifier) {
		if l != nil {
			v.log = l
		}
	}
}

// Verifier checks deliveries for one sink. It is safe for concurrent use.
type Verifier struct {
	registry string // where the discovery document is, no trailing slash
	audience string
	client   *http.Client
	now      func() time.Time
	refetch  time.Duration
	log      *slog.Logger

	keys keyCache
}

// New returns a Verifier of deliveries to the sink audience (its URL
// exactly as subscribed) from the registry at registryURL, whose discovery
// document is registryURL/.well-known/openid-configuration. registryURL
// must be https, or http to a loopback host: its answer decides which
// tokens are trusted. Nothing is fetched until Discover or Verify.
func New(registryURL, audience string, opts ...Option) (*Verifier, error) {
	u, err := url.Parse(strings.TrimRight(registryURL, "/"))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("registry URL %q: want http(s)://HOST[:PORT]", registryURL)
	}
	if err := checkFetchURL(u); err != nil {
		return nil, fmt.Errorf("registry URL %q: %w", registryURL, err)
	}
	if _, err := parseAudience(audience); err != nil {
		return nil, err
	}
	v := &Verifier{
		registry: u.String(),
		audience: audience,
		client:   &http.Client{Timeout: DefaultFetchTimeout},
		now:      time.Now,
		refetch:  DefaultRefetchInterval,
		log:      slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(v)
	}
	// A copy: the caller's client keeps its own redirect policy.
	c := *v.client
	c.CheckRedirect = sameOrigin
	v.client = &c
	return v, nil
}

// Audience is the sink URL tokens must be for.
func (v *Verifier) Audience() string { return v.audience }

// Issuer is the registry's issuer, from its discovery document: "" until
// Discover or a Verify fetched it.
func (v *Verifier) Issuer() string {
	v.keys.mu.Lock()
	defer v.keys.mu.Unlock()
	if v.keys.set == nil {
		return ""
	}
	return v.keys.set.issuer
}

// parseAudience checks a sink URL: absolute http(s), with a host.
func parseAudience(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sink URL %q: want an absolute http(s) URL", s)
	}
	return u, nil
}

// sameAudience compares a token's aud with the sink URL exactly, except
// that an empty path is the path "/" (RFC 3986 section 6.2.3), so that
// http://127.0.0.1:8080 and http://127.0.0.1:8080/ name the same sink.
func sameAudience(aud, sink string) bool {
	if aud == sink {
		return true
	}
	a, err1 := url.Parse(aud)
	s, err2 := url.Parse(sink)
	if err1 != nil || err2 != nil || a.Path != "" && s.Path != "" {
		return false
	}
	withSlash := func(u *url.URL) string {
		if u.Path == "" && u.RawPath == "" {
			c := *u
			c.Path = "/"
			return c.String()
		}
		return u.String()
	}
	return withSlash(a) == withSlash(s)
}

// claims are the claims of a delivery token. They are decoded by go-jose's
// JSON package, which matches member names case-sensitively.
type claims struct {
	jwt.Claims
	Digest string `json:"digest"`
	// Event is the "ce" claim: the id and type of the event delivered,
	// which the ce-id and ce-type headers must repeat.
	Event *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"ce"`
}

// Verify checks the delivery r, whose body (already read, at most MaxBody
// bytes) is body, and returns its event. In order:
//
//   - the bearer token is a compact JWS signed ES256 (an allow-list: "none",
//     HMAC and RSA are refused, and so are keys the token carries or points
//     at: jwk, jku, x5c, x5u) by the registry key its "kid" names, the keys
//     being refetched, at most once per refetch interval, for a kid not
//     known yet;
//   - "iss" is the discovery document's issuer and "aud" the sink URL;
//   - "exp" and "iat" are present, and exp, nbf and iat hold within Leeway;
//   - "sub" is SubjectPrefix and a subscription id;
//   - "digest" is the sha256 of body;
//   - the request is a CloudEvent 1.0 with JSON data in the registry's
//     events.Data shape, whose unsigned attributes agree with its signed
//     data (source, subject, type).
//
// A refusal wraps ErrUnauthorized, ErrMalformed or ErrUnavailable (see
// StatusCode); its text is short, names no token, and may be sent back.
// r.Body is not read: body is.
func (v *Verifier) Verify(r *http.Request, body []byte) (event.Event, error) {
	ctx := r.Context()
	raw, err := bearer(r)
	if err != nil {
		return event.Event{}, err
	}
	kid, err := checkHeader(raw)
	if err != nil {
		return event.Event{}, err
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return event.Event{}, unauthorized("malformed token")
	}
	set, key, err := v.key(ctx, kid)
	if err != nil {
		return event.Event{}, err
	}
	var c claims
	if err := tok.Claims(key, &c); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return event.Event{}, unauthorized("bad signature")
		}
		return event.Event{}, unauthorized("malformed token claims")
	}
	if err := v.checkClaims(&c, set.issuer, body); err != nil {
		return event.Event{}, err
	}
	ev, err := parseEvent(r, body, set.issuer)
	if err != nil {
		return event.Event{}, err
	}
	if c.Event == nil || c.Event.ID != ev.ID() || c.Event.Type != ev.Type() {
		return event.Event{}, unauthorized("the token does not name this event (ce claim)")
	}
	return ev, nil
}

// bearer returns the bearer token of r.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "", unauthorized("no bearer token")
	}
	if len(h) > 1 {
		return "", unauthorized("more than one Authorization header")
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", unauthorized("no bearer token")
	}
	tok = strings.TrimSpace(tok)
	if len(tok) > MaxTokenSize {
		return "", unauthorized("token too large")
	}
	return tok, nil
}

// checkHeader checks the protected header of the compact JWS raw before
// anything is looked up for it, and returns its kid.
func checkHeader(raw string) (string, error) {
	if strings.Count(raw, ".") != 2 {
		return "", unauthorized("malformed token")
	}
	enc, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", unauthorized("malformed token")
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b, &h); err != nil || h == nil {
		return "", unauthorized("malformed token")
	}
	var alg, kid string
	if json.Unmarshal(h["alg"], &alg) != nil || alg != string(jose.ES256) {
		return "", unauthorized("token algorithm is not ES256")
	}
	// Each of these lets the sender choose the key, or demands processing
	// this verifier does not do.
	for _, name := range []string{"jwk", "jku", "x5c", "x5u", "crit", "b64"} {
		if _, ok := h[name]; ok {
			return "", unauthorized(fmt.Sprintf("token header %q is not accepted", name))
		}
	}
	if json.Unmarshal(h["kid"], &kid) != nil || kid == "" {
		return "", unauthorized("token has no key id")
	}
	return kid, nil
}

// checkClaims checks the verified claims c against the issuer, the sink
// and body.
func (v *Verifier) checkClaims(c *claims, issuer string, body []byte) error {
	now := v.now()
	switch {
	case c.Issuer != issuer:
		return unauthorized("token from another issuer")
	case !audienceContains(c.Audience, v.audience):
		return unauthorized("token for another sink")
	case c.Expiry == nil || c.IssuedAt == nil:
		return unauthorized("token without exp or iat")
	case now.Add(-Leeway).After(c.Expiry.Time()):
		return unauthorized("token expired")
	case c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time()):
		return unauthorized("token not valid yet")
	case now.Add(Leeway).Before(c.IssuedAt.Time()):
		return unauthorized("token issued in the future")
	case !strings.HasPrefix(c.Subject, SubjectPrefix) || len(c.Subject) == len(SubjectPrefix):
		return unauthorized("token subject is not a subscription")
	case c.Digest == "":
		return unauthorized("token has no body digest")
	}
	sum := sha256.Sum256(body)
	want := "sha256:" + hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(c.Digest), []byte(want)) != 1 {
		return unauthorized("body does not match the token's digest")
	}
	return nil
}

func audienceContains(aud jwt.Audience, sink string) bool {
	for _, a := range aud {
		if sameAudience(a, sink) {
			return true
		}
	}
	return false
}

// parseEvent reads the CloudEvent of r with body, and checks its
// unsigned attributes against its signed data.
func parseEvent(r *http.Request, body []byte, issuer string) (event.Event, error) {
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	ev, err := cehttp.NewEventFromHTTPRequest(req)
	if err != nil {
		return event.Event{}, malformed("not a CloudEvent")
	}
	if err := ev.Validate(); err != nil {
		return event.Event{}, malformed("invalid CloudEvent")
	}
	if ev.SpecVersion() != event.CloudEventsVersionV1 {
		return event.Event{}, malformed("not a CloudEvents 1.0 event")
	}
	if ct := ev.DataContentType(); ct != "" && !strings.HasPrefix(ct, event.ApplicationJSON) {
		return event.Event{}, malformed("event data is not JSON")
	}
	var d events.Data
	if err := json.Unmarshal(ev.Data(), &d); err != nil || d.Repository == "" {
		return event.Event{}, malformed("event data is not a registry event")
	}
	// The ce-* headers are not covered by the token: those the signed
	// data determines must agree with it.
	switch {
	case ev.Source() != issuer:
		return event.Event{}, unauthorized("event source is not the registry")
	case ev.Subject() != subjectOf(&d):
		return event.Event{}, unauthorized("event subject does not match its data")
	case !typeFits(ev.Type(), d.Method):
		return event.Event{}, unauthorized("event type does not match its data")
	}
	return *ev, nil
}

// subjectOf is the CloudEvents subject the registry gives d:
// repository:tag, else repository@digest, else the repository.
func subjectOf(d *events.Data) string {
	switch {
	case d.Tag != "":
		return d.Repository + ":" + d.Tag
	case d.Digest != "":
		return d.Repository + "@" + d.Digest
	}
	return d.Repository
}

// typeFits reports whether an event of type typ can have been made by a
// request with method: pulls are GET or HEAD, pushes are not. Other types
// are not checked.
func typeFits(typ, method string) bool {
	read := method == http.MethodGet || method == http.MethodHead
	switch typ {
	case events.TypePull:
		return read
	case events.TypePush:
		return !read
	}
	return true
}
