package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	deviceGrantType       = "urn:ietf:params:oauth:grant-type:device_code"
	defaultDeviceInterval = 5 * time.Second  // RFC 8628 §3.2
	slowDownStep          = 5 * time.Second  // RFC 8628 §3.5
	maxDeviceInterval     = 60 * time.Second // a bound against a hostile interval
)

// deviceAuthResponse is RFC 8628 §3.2. verification_url is what some
// providers (Google) send instead of verification_uri.
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURL         string `json:"verification_url"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// Device logs the user in with the device authorization grant (RFC 8628):
// it asks the provider's device_authorization_endpoint for a code, shows it
// through Prompter.ShowDeviceCode, then polls the token endpoint every
// interval (5 seconds unless the provider says otherwise), adding 5 seconds
// for each slow_down, until the user approves, denies (ErrAccessDenied) or
// the code expires (ErrExpiredToken), or the timeout passes (ErrTimeout,
// default 15 minutes). A failed poll request (network error, 5xx) ends the
// flow: the caller may start again.
// The ID token is verified as in Browser, without a nonce (the grant has
// none). It returns ErrDeviceUnsupported when the provider advertises no
// device endpoint.
func Device(ctx context.Context, cfg *Config, opts ...Option) (*IDToken, error) {
	o := newOptions(defaultDeviceTimeout, opts)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	p, err := o.provider(ctx, cfg)
	if err != nil {
		return nil, timeoutErr(ctx, err)
	}
	ep := p.Endpoint()
	if ep.DeviceAuthURL == "" {
		return nil, ErrDeviceUnsupported
	}
	da, err := o.deviceAuthorize(ctx, ep.DeviceAuthURL, cfg)
	if err != nil {
		return nil, timeoutErr(ctx, fmt.Errorf("start device login: %w", err))
	}
	interval := defaultDeviceInterval
	if da.Interval > 0 {
		interval = min(time.Duration(da.Interval)*time.Second, maxDeviceInterval)
	}
	var expiry time.Time
	if da.ExpiresIn > 0 {
		expiry = o.now().Add(time.Duration(da.ExpiresIn) * time.Second)
	}
	vuri := da.VerificationURI
	if vuri == "" {
		vuri = da.VerificationURL
	}
	o.prompter.ShowDeviceCode(DeviceCode{
		UserCode:                da.UserCode,
		VerificationURI:         vuri,
		VerificationURIComplete: da.VerificationURIComplete,
		Expiry:                  expiry,
	})

	for {
		if err := o.sleep(ctx, interval); err != nil {
			return nil, timeoutErr(ctx, err)
		}
		if !expiry.IsZero() && o.now().After(expiry) {
			return nil, fmt.Errorf("device login: %w", ErrExpiredToken)
		}
		raw, err := o.pollDevice(ctx, ep.TokenURL, cfg.ClientID, da.DeviceCode)
		var oe *OAuthError
		switch {
		case err == nil:
			return o.verify(ctx, p, cfg, raw, "")
		case errors.As(err, &oe) && oe.Code == "authorization_pending":
		case errors.As(err, &oe) && oe.Code == "slow_down":
			interval = min(interval+slowDownStep, maxDeviceInterval)
			o.logger.DebugContext(ctx, "login: device poll slowed down", "interval", interval)
		default:
			return nil, timeoutErr(ctx, fmt.Errorf("device login: %w", err))
		}
	}
}

func (o *options) deviceAuthorize(ctx context.Context, endpoint string, cfg *Config) (*deviceAuthResponse, error) {
	form := url.Values{"client_id": {cfg.ClientID}, "scope": {strings.Join(cfg.scopes(), " ")}}
	body, err := o.postForm(ctx, endpoint, form)
	if err != nil {
		return nil, err
	}
	var da deviceAuthResponse
	if err := json.Unmarshal(body, &da); err != nil {
		return nil, fmt.Errorf("decode device authorization response: %w", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || (da.VerificationURI == "" && da.VerificationURL == "") {
		return nil, errors.New("device authorization response lacks device_code, user_code or verification_uri")
	}
	return &da, nil
}

// pollDevice makes one device access token request (RFC 8628 §3.4) and
// returns the ID token, or the *OAuthError the provider answered.
func (o *options) pollDevice(ctx context.Context, tokenURL, clientID, deviceCode string) (string, error) {
	body, err := o.postForm(ctx, tokenURL, url.Values{
		"grant_type": {deviceGrantType}, "device_code": {deviceCode}, "client_id": {clientID},
	})
	if err != nil {
		return "", err
	}
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("decode token response: %w", err)
	}
	return tr.IDToken, nil
}

// postForm POSTs form and returns a 200 body, or the error response as
// *OAuthError (or *HTTPError).
func (o *options) postForm(ctx context.Context, endpoint string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body, maxResponseBytes)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseOAuthError(resp.StatusCode, body)
	}
	return body, nil
}
