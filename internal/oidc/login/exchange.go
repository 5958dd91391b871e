package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// RFC 8693 identifiers.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
)

// Session is a registry session token.
type Session struct {
	Token    string
	Identity string    // the registry identity the session acts as
	Expiry   time.Time // computed from expires_in; zero when the server sent none
}

// Exchange trades an ID token for a registry session at
// cfg.TokenExchangeEndpoint (RFC 8693 §2). identity, when not empty, names
// the registry identity to act as; it is needed when the token matches
// several, which the server reports as an *OAuthError that errors.Is
// matches to ErrIdentityRequired, its description listing the candidates.
// A refused token is an *OAuthError matching ErrInvalidGrant. A nil client
// means http.DefaultClient; the request gives up after 30 seconds. Only
// WithClock among the options has an effect.
func Exchange(ctx context.Context, client *http.Client, cfg *Config, idToken, identity string, opts ...Option) (*Session, error) {
	if cfg == nil || cfg.TokenExchangeEndpoint == "" {
		return nil, errors.New("exchange: the registry has no token exchange endpoint")
	}
	if idToken == "" {
		return nil, errors.New("exchange: empty id token")
	}
	o := newOptions(defaultHTTPWait, opts)
	if client != nil {
		o.client = client
	}
	ctx, cancel := context.WithTimeout(ctx, defaultHTTPWait)
	defer cancel()

	form := url.Values{
		"grant_type":         {grantTokenExchange},
		"subject_token":      {idToken},
		"subject_token_type": {tokenTypeIDToken},
	}
	if identity != "" {
		form.Set("identity", identity)
	}
	start := o.now()
	body, err := o.postForm(ctx, cfg.TokenExchangeEndpoint, form)
	if err != nil {
		return nil, fmt.Errorf("exchange id token for a session: %w", err)
	}
	var r struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Identity    string `json:"identity"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("exchange id token for a session: decode response: %w", err)
	}
	if r.AccessToken == "" {
		return nil, errors.New("exchange id token for a session: response has no access_token")
	}
	s := &Session{Token: r.AccessToken, Identity: r.Identity}
	if s.Identity == "" {
		s.Identity = identity
	}
	if r.ExpiresIn > 0 {
		// Measured from before the request, so the expiry errs early.
		s.Expiry = start.Add(time.Duration(r.ExpiresIn) * time.Second)
	}
	return s, nil
}
