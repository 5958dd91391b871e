// Package login obtains an OpenID Connect ID token for a person and
// exchanges it for a chainctl registry session: discovery of the registry's
// login configuration, the authorization code flow with PKCE on a loopback
// redirect (RFC 6749 §4.1, RFC 7636, RFC 8252), the device authorization
// grant (RFC 8628), the development provider's dev-user grant (DevUser)
// and the token exchange (RFC 8693).
//
// The package never prints. Whatever the user must see or do is handed to a
// Prompter, which the CLI renders; opening a browser is a func the CLI
// supplies.
package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ConfigPath is where a registry publishes its login configuration.
const ConfigPath = "/.well-known/chainctl-configuration"

const (
	maxConfigBytes   = 64 << 10 // the login configuration is a few hundred bytes
	maxResponseBytes = 1 << 20  // token and device responses
	defaultHTTPWait  = 30 * time.Second
	// The default timeouts of the flows: a browser login takes a person
	// seconds; a device login may need them to find a second device, and
	// the code usually lives 10 to 15 minutes.
	defaultBrowserTimeout = 5 * time.Minute
	defaultDeviceTimeout  = 15 * time.Minute
)

// Config is a registry's login configuration, as served at ConfigPath.
type Config struct {
	// Issuer and ClientID name the OpenID provider and the public client
	// chainctl logs in as.
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes,omitempty"`
	// TokenExchangeEndpoint exchanges an ID token for a session token
	// (RFC 8693); TokenEndpoint is the Docker token endpoint.
	TokenExchangeEndpoint string `json:"token_exchange_endpoint"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	// Service is the registry's service name.
	Service string `json:"service,omitempty"`
}

// scopes returns the scopes to request; openid is always among them.
func (c *Config) scopes() []string {
	s := append([]string(nil), c.Scopes...)
	for _, v := range s {
		if v == oidc.ScopeOpenID {
			return s
		}
	}
	return append([]string{oidc.ScopeOpenID}, s...)
}

// Discover fetches the login configuration of the registry at registryURL
// (a URL, or a host[:port] meaning https). Relative endpoints are resolved
// against the registry URL. A registry that names no identity provider
// (Issuer, ClientID empty) is not an error here: ambient CI credentials
// are exchanged without one; Browser and Device return ErrNoProvider. Redirects to another host are refused, the
// body is capped at 64 KiB and, unless ctx has an earlier deadline, the
// request gives up after 30 seconds. A nil client means http.DefaultClient.
func Discover(ctx context.Context, client *http.Client, registryURL string) (*Config, error) {
	base, err := parseRegistryURL(registryURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, defaultHTTPWait)
	defer cancel()

	c := sameHostClient(client, base.Host)
	u := base.JoinPath(ConfigPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("discover login configuration: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discover login configuration: %w", err)
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body, maxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("discover login configuration from %s: %w", u.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discover login configuration from %s: %w", u.Redacted(), &HTTPError{StatusCode: resp.StatusCode})
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("discover login configuration from %s: content type %q is not application/json", u.Redacted(), mt)
	}
	var cfg Config
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, fmt.Errorf("discover login configuration from %s: %w", u.Redacted(), err)
	}
	// A registry without a login provider still exchanges CI tokens: only
	// Browser and Device need the provider, and they return ErrNoProvider.
	if cfg.TokenExchangeEndpoint == "" {
		return nil, fmt.Errorf("discover login configuration from %s: no token_exchange_endpoint", u.Redacted())
	}
	if cfg.TokenExchangeEndpoint, err = resolve(base, cfg.TokenExchangeEndpoint); err != nil {
		return nil, fmt.Errorf("token_exchange_endpoint: %w", err)
	}
	if cfg.TokenEndpoint != "" {
		if cfg.TokenEndpoint, err = resolve(base, cfg.TokenEndpoint); err != nil {
			return nil, fmt.Errorf("token_endpoint: %w", err)
		}
	}
	return &cfg, nil
}

func parseRegistryURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("registry url is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("registry url: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("registry url %q: want http(s)://host[:port][/path]", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func resolve(base *url.URL, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	u := base.ResolveReference(r)
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%q is not an http(s) url", ref)
	}
	return u.String(), nil
}

// sameHostClient returns a copy of c (or of http.DefaultClient) that
// refuses redirects to any host but host.
func sameHostClient(c *http.Client, host string) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !strings.EqualFold(req.URL.Host, host) {
			return fmt.Errorf("refusing redirect to another host %q", req.URL.Host)
		}
		return nil
	}
	return &cc
}

func readCapped(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("response larger than %d bytes", n)
	}
	return b, nil
}

// IDToken is a verified OpenID Connect ID token.
type IDToken struct {
	Raw     string // the compact JWS, as exchanged
	Issuer  string
	Subject string
	Email   string // empty unless the provider sent one
	Expiry  time.Time
}

// Prompter shows the user what they must see or do. Its methods are called
// from the goroutine running the flow and must not block for long.
type Prompter interface {
	// ShowAuthURL is called once in the browser flow with the URL the
	// user must visit. openErr is nil when the browser was asked to open
	// it, ErrNoBrowser when no opener is configured, or the opener's error:
	// then the user should copy the URL into a browser.
	ShowAuthURL(authURL string, openErr error)
	// ShowDeviceCode is called once in the device flow.
	ShowDeviceCode(DeviceCode)
}

// DeviceCode is what the user needs to approve a device login (RFC 8628 §3.3).
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	// VerificationURIComplete includes the user code; empty when the
	// provider sent none. It suits a QR code or a link.
	VerificationURIComplete string
	Expiry                  time.Time
}

// PrompterFuncs adapts funcs to a Prompter; nil funcs do nothing.
type PrompterFuncs struct {
	AuthURL func(authURL string, openErr error)
	Device  func(DeviceCode)
}

// ShowAuthURL implements Prompter.
func (p PrompterFuncs) ShowAuthURL(u string, err error) {
	if p.AuthURL != nil {
		p.AuthURL(u, err)
	}
}

// ShowDeviceCode implements Prompter.
func (p PrompterFuncs) ShowDeviceCode(c DeviceCode) {
	if p.Device != nil {
		p.Device(c)
	}
}

var _ Prompter = PrompterFuncs{}

// Option configures Browser, Device and Exchange.
type Option func(*options)

type options struct {
	client   *http.Client
	open     func(string) error
	prompter Prompter
	timeout  time.Duration
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	logger   *slog.Logger
}

// WithHTTPClient sets the client for the provider and registry (default
// http.DefaultClient).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithBrowserOpener sets the func that opens a URL in the user's browser
// (for example github.com/cli/browser.OpenURL). By default none is set and
// the URL is only shown.
func WithBrowserOpener(open func(url string) error) Option {
	return func(o *options) { o.open = open }
}

// WithPrompter sets what shows URLs and codes to the user (default: nothing
// is shown, which suits only tests).
func WithPrompter(p Prompter) Option { return func(o *options) { o.prompter = p } }

// WithTimeout bounds the whole interactive flow, the user's part included
// (default 5 minutes for Browser, 15 for Device, which also stops when its
// code expires).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithClock sets the source of the current time, used to check token
// expiry and the device code's lifetime (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the device flow waits between polls (default: a timer
// that ctx cancels). Tests pass one that moves a fake clock.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithLogger sets the logger (default: discard). Tokens, codes, verifiers
// and state are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// newOptions applies opts over the defaults; defaultTimeout applies when
// WithTimeout gave none.
func newOptions(defaultTimeout time.Duration, opts []Option) *options {
	o := &options{
		client:   http.DefaultClient,
		prompter: PrompterFuncs{},
		now:      time.Now,
		sleep:    sleepCtx,
		logger:   slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.client == nil {
		o.client = http.DefaultClient
	}
	if o.prompter == nil {
		o.prompter = PrompterFuncs{}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.sleep == nil {
		o.sleep = sleepCtx
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.timeout <= 0 {
		o.timeout = defaultTimeout
	}
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// provider discovers the OpenID provider of cfg (OpenID Connect Discovery
// 1.0; go-oidc checks that the issuer it reports is cfg.Issuer).
func (o *options) provider(ctx context.Context, cfg *Config) (*oidc.Provider, error) {
	if cfg == nil || cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, ErrNoProvider
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover identity provider %s: %w", cfg.Issuer, err)
	}
	return p, nil
}

// verify checks the ID token's signature, iss, aud (= the client id) and
// exp and, when nonce is not empty, its nonce (OpenID Connect Core §3.1.3.7).
func (o *options) verify(ctx context.Context, p *oidc.Provider, cfg *Config, raw, nonce string) (*IDToken, error) {
	if raw == "" {
		return nil, errors.New("the provider returned no id_token")
	}
	v := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: o.now})
	t, err := v.Verify(oidc.ClientContext(ctx, o.client), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce does not match the login request", ErrInvalidIDToken)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := t.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	return &IDToken{Raw: raw, Issuer: t.Issuer, Subject: t.Subject, Email: claims.Email, Expiry: t.Expiry}, nil
}

// randomString returns 256 random bits, base64url-encoded.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
