// Package api is chainctl's client for a registry's /api/v1: one JSON
// request helper (Client.Do) with the session token as a bearer
// credential, the error the API answers with (*Error), and, for the
// commands built on it, Remote (which registry, which session) and
// Command (the RunE every such command shares). Resource commands add
// small typed wrappers over Do, such as the identities commands'
// shared.ListIdentities. The client (this file) knows nothing of cobra
// or the terminal.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// maxResponse caps the size of a response body the client reads.
const maxResponse = 4 << 20

// Prefix is where the API lives on a registry.
const Prefix = "/api/v1/"

// Error is an error response of the API (the CLI's APIError): its HTTP
// status and the {"error": code, "message": text} body. Code and Message
// are empty when the body was not that JSON.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("%s (%s, HTTP %d)", msg, e.Code, e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// Client calls the /api/v1 of one registry with one session token.
type Client struct {
	http  *http.Client
	base  string // scheme://host[:port], no trailing slash
	token string
}

// New returns a client for the registry at registryURL (such as
// https://registry.example.com or http://127.0.0.1:5000) that sends token
// as a bearer credential, over hc (nil: http.DefaultClient). It refuses
// what ParseRegistryURL refuses.
func New(hc *http.Client, registryURL, token string) (*Client, error) {
	u, err := ParseRegistryURL(registryURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{http: hc, base: u.String(), token: token}, nil
}

// String names the registry, never the token.
func (c *Client) String() string { return "api.Client(" + c.base + ")" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// ParseRegistryURL checks a registry URL: http or https, a host, no user
// info, query or fragment, and plain http only to a loopback host, since
// elsewhere the token would cross the network in clear text.
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

// Path joins segments into a path for Do, each one escaped, so that an
// id holding "/" stays one segment: Path("identities", "a/b") is
// "identities/a%2Fb".
func Path(segments ...string) string {
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	return strings.Join(esc, "/")
}

// Do sends method to /api/v1/path (path is relative and already escaped,
// see Path; it may end in a ?query) with in encoded as the JSON body when
// it is not nil, and decodes a 2xx response into out when out is not nil
// (a 204 decodes nothing). Any other status is an *Error. Errors never
// hold the token, the request body or a query string.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	// Concatenated rather than joined: JoinPath would unescape an id's
	// "%2F" into a path separator.
	endpoint := c.base + Prefix + path
	name := method + " " + Prefix + path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		name = method + " " + Prefix + path[:i]
	}

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
		return scrub(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, data, err := c.send(req, name)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		apiErr := &Error{Status: status}
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil {
			apiErr.Code, apiErr.Message = e.Error, e.Message
		}
		return apiErr
	}
	if out == nil || status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", name, err)
	}
	return nil
}

// send sends req (name says which request in errors) and returns the
// answer's status and body, which may be at most maxResponse bytes.
func (c *Client) send(req *http.Request, name string) (int, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		// The error names the URL, never the header with the token.
		return 0, nil, scrub(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: read response: %w", name, err)
	}
	if len(data) > maxResponse {
		return 0, nil, fmt.Errorf("%s: response larger than %d bytes", name, maxResponse)
	}
	return resp.StatusCode, data, nil
}

// scrub drops the query (and any user info or fragment) from the URL a
// *url.Error names: a later API may take a secret there.
func scrub(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "(unparsable URL)", Err: ue.Err}
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}
