package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// devUserGrantType is the grant of the development identity provider of
// `chainctl registry serve --dev` (devidp.DevUserGrantType) that gives a
// program on the same machine the development user's ID token directly.
const devUserGrantType = "urn:chainctl:params:oauth:grant-type:dev-user"

// ErrNotDev means the registry's identity provider is not the development
// provider of `chainctl registry serve --dev` on this machine.
var ErrNotDev = errors.New("the registry's identity provider is not the development provider of `chainctl registry serve --dev` on this machine")

// DevUser obtains the ID token of the development user of a registry run
// with `chainctl registry serve --dev`, with no browser: one request to the
// provider's token endpoint with its dev-user grant. It refuses, with
// ErrNotDev, any provider whose issuer is not on a loopback address or that
// does not advertise the grant, so it never sends anything to a real
// identity provider. The ID token is verified as in Device.
func DevUser(ctx context.Context, cfg *Config, opts ...Option) (*IDToken, error) {
	o := newOptions(defaultHTTPWait, opts)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if cfg == nil || cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, ErrNoProvider
	}
	if u, err := url.Parse(cfg.Issuer); err != nil || !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%w (its issuer is %s)", ErrNotDev, cfg.Issuer)
	}
	p, err := o.provider(ctx, cfg)
	if err != nil {
		return nil, timeoutErr(ctx, err)
	}
	var meta struct {
		GrantTypes []string `json:"grant_types_supported"`
	}
	if err := p.Claims(&meta); err != nil || !slices.Contains(meta.GrantTypes, devUserGrantType) {
		return nil, fmt.Errorf("%w (%s offers no dev-user login)", ErrNotDev, cfg.Issuer)
	}
	body, err := o.postForm(ctx, p.Endpoint().TokenURL, url.Values{
		"grant_type": {devUserGrantType}, "client_id": {cfg.ClientID}, "scope": {strings.Join(cfg.scopes(), " ")},
	})
	if err != nil {
		return nil, timeoutErr(ctx, fmt.Errorf("dev login: %w", err))
	}
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("dev login: decode token response: %w", err)
	}
	return o.verify(ctx, p, cfg, tr.IDToken, "")
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
