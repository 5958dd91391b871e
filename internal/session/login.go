package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/ambient"
	"github.com/chainctl/chainctl/internal/oidc/login"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// MethodKind is how Login obtains an identity token.
type MethodKind int

// The login methods.
const (
	// Browser is the authorization code flow with PKCE on a loopback
	// redirect (RFC 7636, RFC 8252).
	Browser MethodKind = iota
	// Device is the device authorization grant (RFC 8628), for hosts
	// without a browser.
	Device
	// IDToken uses Method.IDToken, a token the caller already holds.
	IDToken
	// Ambient uses ambient CI credentials (see internal/oidc/ambient).
	Ambient
	// DevUser asks the development identity provider of a registry run
	// with `chainctl registry serve --dev` for its user's token directly
	// (login.DevUser), with no browser.
	DevUser
)

// Method says how Login obtains the identity token it exchanges.
type Method struct {
	Kind MethodKind
	// IDToken is the token for Kind == IDToken.
	IDToken string
	// Identity names the registry identity to act as; needed when the
	// token matches several.
	Identity string
}

// Result is a completed login.
type Result struct {
	Registry Registry
	Entry    tokencache.Entry
	// Subject is who logged in: the ID token's email, else its subject
	// (for IDToken and Ambient, read without verification, for display).
	Subject string
	Issuer  string
	// Provider names the ambient provider, for Kind == Ambient.
	Provider string
	// Shared is true when a concurrent login of this host completed while
	// this one waited for the lock, and its session was reused.
	Shared bool
}

// Login discovers registry's login configuration, obtains an identity
// token by m, exchanges it for a session and caches it. The whole login
// runs under the host's cache lock, so concurrent logins (and helper
// refreshes) of one host open at most one browser window: a login that
// waited for another finds the session it stored and returns it.
func Login(ctx context.Context, registry string, m Method, opts ...Option) (*Result, error) {
	reg, err := ParseRegistry(registry)
	if err != nil {
		return nil, err
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if m.Identity != "" {
		o.identity = m.Identity
	}
	if m.Kind == IDToken && strings.TrimSpace(m.IDToken) == "" {
		return nil, errors.New("empty identity token")
	}
	cfg, err := login.Discover(ctx, o.client, reg.URL)
	if err != nil {
		return nil, err
	}
	start := o.now()
	res := &Result{Registry: reg}
	err = o.cache.WithLock(ctx, reg.Host, func() error {
		if m.Kind == Browser || m.Kind == Device {
			if e, err := o.cache.Get(reg.Host); err == nil && e.Kind == tokencache.KindSession &&
				!e.Issued.Before(start) && e.UsableAt(o.now(), o.minLife) {
				res.Entry, res.Shared = e, true
				return nil
			}
		}
		raw, err := o.idToken(ctx, cfg, m, res)
		if err != nil {
			return err
		}
		e, err := o.exchange(ctx, cfg, raw)
		if err != nil {
			return err
		}
		if err := o.cache.Put(reg.Host, e); err != nil {
			return err
		}
		res.Entry = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// idToken obtains the identity token for m and records who it names.
func (o *options) idToken(ctx context.Context, cfg *login.Config, m Method, res *Result) (string, error) {
	lopts := append([]login.Option{login.WithHTTPClient(o.client), login.WithClock(o.now)}, o.loginOpts...)
	var raw string
	switch m.Kind {
	case Browser, Device, DevUser:
		var t *login.IDToken
		var err error
		switch m.Kind {
		case Browser:
			t, err = login.Browser(ctx, cfg, lopts...)
		case Device:
			t, err = login.Device(ctx, cfg, lopts...)
		default:
			t, err = login.DevUser(ctx, cfg, lopts...)
		}
		if err != nil {
			return "", err
		}
		res.Subject, res.Issuer = t.Email, t.Issuer
		if res.Subject == "" {
			res.Subject = t.Subject
		}
		return t.Raw, nil
	case IDToken:
		raw = strings.TrimSpace(m.IDToken)
	case Ambient:
		env := o.env
		if env == nil {
			env = ambient.OSEnv()
		}
		name, tok, err := ambient.Detect(ctx, env, cfg.Service, o.ambientOpts...)
		if err != nil {
			return "", err
		}
		res.Provider, raw = name, tok
	default:
		return "", fmt.Errorf("unknown login method %d", m.Kind)
	}
	if c, ok := jwtClaims(raw); ok {
		res.Subject, res.Issuer = c.Email, c.Issuer
		if res.Subject == "" {
			res.Subject = c.Subject
		}
	}
	return raw, nil
}

// AccessToken asks registry's Docker token endpoint (GET, as in the
// distribution token authentication spec) for an access token for scopes, such as
// "repository:acme/app:pull,push", authenticating with session as the
// Basic password of user "_token". It returns the token and its expiry
// (zero when the server sent none).
func AccessToken(ctx context.Context, registry string, session tokencache.Entry, scopes []string, opts ...Option) (string, time.Time, error) {
	reg, err := ParseRegistry(registry)
	if err != nil {
		return "", time.Time{}, err
	}
	o := &options{client: http.DefaultClient, now: time.Now}
	for _, opt := range opts {
		opt(o)
	}
	if o.client == nil {
		o.client = http.DefaultClient
	}
	cfg, err := login.Discover(ctx, o.client, reg.URL)
	if err != nil {
		return "", time.Time{}, err
	}
	if cfg.TokenEndpoint == "" {
		return "", time.Time{}, fmt.Errorf("registry %s publishes no token endpoint", reg.Host)
	}
	u, err := url.Parse(cfg.TokenEndpoint)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token endpoint: %w", err)
	}
	q := u.Query()
	if cfg.Service != "" {
		q.Set("service", cfg.Service)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", time.Time{}, err
	}
	req.SetBasicAuth("_token", session.Token)
	req.Header.Set("Accept", "application/json")
	start := o.now()
	resp, err := o.client.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get access token: %w", err)
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body, 1<<20)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get access token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			oe := &login.OAuthError{StatusCode: resp.StatusCode, Code: e.Code, Description: e.Description}
			if resp.StatusCode == http.StatusUnauthorized {
				return "", time.Time{}, fmt.Errorf("get access token: %w: %w", ErrUnauthorized, oe)
			}
			return "", time.Time{}, fmt.Errorf("get access token: %w", oe)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return "", time.Time{}, fmt.Errorf("get access token: %w", ErrUnauthorized)
		}
		return "", time.Time{}, fmt.Errorf("get access token: %w", &login.HTTPError{StatusCode: resp.StatusCode})
	}
	var r struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", time.Time{}, fmt.Errorf("get access token: decode response: %w", err)
	}
	tok := r.Token
	if tok == "" {
		tok = r.AccessToken
	}
	if tok == "" {
		return "", time.Time{}, errors.New("get access token: response has no token")
	}
	var exp time.Time
	if r.ExpiresIn > 0 {
		exp = start.Add(time.Duration(r.ExpiresIn) * time.Second)
	}
	return tok, exp, nil
}

// ErrUnauthorized means the registry refused the session token.
var ErrUnauthorized = errors.New("the registry refused the session token")
