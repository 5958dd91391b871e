// Package shared is what the `chainctl iam identities` commands share: a
// small client for the registry's /api/v1/identities API, the mapping of
// its errors to CLI errors, and the printing of identities. The client
// itself (this file) knows nothing of cobra or the terminal.
package shared

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/chainctl/chainctl/internal/policy"
)

// maxResponse caps the size of a response body the client reads.
const maxResponse = 4 << 20

// Identity is an identity as the API returns it: the rule, where it comes
// from ("config" for the server's configuration file, "api" for one made
// through the API), and, for API identities, when and by whom it was made.
type Identity struct {
	policy.Identity
	Source string `json:"source,omitempty"`
	// Created is an RFC 3339 time; it is kept as text so that an
	// identity without one (from the configuration) still decodes.
	Created   string `json:"created,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

// TestResult is the answer of POST /api/v1/identities/test: the token's
// issuer and subject, Error if the token could not be verified, and one
// result per identity.
type TestResult struct {
	Issuer  string        `json:"issuer"`
	Subject string        `json:"subject"`
	Error   string        `json:"error,omitempty"`
	Results []MatchResult `json:"results"`
}

// MatchResult says whether the token matched one identity and, if not,
// which checks failed.
type MatchResult struct {
	ID       string         `json:"id"`
	Name     string         `json:"name,omitempty"`
	Matched  bool           `json:"matched"`
	Failures []MatchFailure `json:"failures,omitempty"`
}

// MatchFailure is one check an identity made that the token failed.
type MatchFailure struct {
	Check  string `json:"check,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Claim  string `json:"claim,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// APIError is an error response of the API: its HTTP status and the
// {"error": code, "message": text} body (Code and Message are empty when
// the body was not that JSON).
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("%s (%s, HTTP %d)", msg, e.Code, e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// Client calls the identities API of one registry with one session token.
type Client struct {
	http  *http.Client
	base  *url.URL
	token string
}

// NewClient returns a client for the registry at registryURL (such as
// https://registry.example.com or http://127.0.0.1:5000) that sends token
// as a bearer credential. It refuses a URL that is not http or https, and
// plain http to a host that is not loopback, where the token would cross
// the network in clear text.
func NewClient(hc *http.Client, registryURL, token string) (*Client, error) {
	u, err := ParseRegistryURL(registryURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{http: hc, base: u, token: token}, nil
}

// ParseRegistryURL checks a registry URL as NewClient does.
func ParseRegistryURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("registry URL %q: %w", s, err)
	}
	switch {
	case u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return nil, fmt.Errorf("registry URL %q: want http(s)://HOST[:PORT]", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("registry URL %q: no user info, query or fragment", s)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("registry URL %q: plain http is only allowed to a loopback host; use https", s)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// List returns every identity the caller may see.
func (c *Client) List(ctx context.Context) ([]Identity, error) {
	var resp struct {
		Identities []Identity `json:"identities"`
	}
	if err := c.do(ctx, http.MethodGet, "identities", nil, &resp); err != nil {
		return nil, err
	}
	return resp.Identities, nil
}

// Get returns the identity id; the error is an *APIError with Status 404
// if there is none.
func (c *Client) Get(ctx context.Context, id string) (*Identity, error) {
	var out Identity
	if err := c.do(ctx, http.MethodGet, "identities/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create stores id and returns it as stored.
func (c *Client) Create(ctx context.Context, id policy.Identity) (*Identity, error) {
	var out Identity
	if err := c.do(ctx, http.MethodPost, "identities", id, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes the identity id.
func (c *Client) Delete(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "identities/"+url.PathEscape(id), nil, nil)
}

// Test asks which identities accept the upstream ID token idToken.
func (c *Client) Test(ctx context.Context, idToken string) (*TestResult, error) {
	var out TestResult
	body := struct {
		Token string `json:"token"`
	}{idToken}
	if err := c.do(ctx, http.MethodPost, "identities/test", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// do sends one request to /api/v1/<path> with in as the JSON body (if not
// nil) and decodes a successful response into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	// Concatenated rather than joined: JoinPath would unescape an id's
	// "%2F" into a path separator.
	endpoint := c.base.String() + "/api/v1/" + path

	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The error names the URL, never the header with the token.
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, "/api/v1/"+path, err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("%s %s: response larger than %d bytes", method, "/api/v1/"+path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{Status: resp.StatusCode}
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil {
			apiErr.Code, apiErr.Message = e.Error, e.Message
		}
		return apiErr
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, "/api/v1/"+path, err)
	}
	return nil
}
