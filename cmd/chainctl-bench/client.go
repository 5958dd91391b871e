package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Media types used by the workloads (OCI image-spec).
const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaOctet    = "application/octet-stream"
)

// client speaks the OCI distribution-spec push and pull protocol directly
// over net/http, so that what is measured is the server and not a client
// library's extra round trips.
//
// Against a registry that wants Docker token authentication, every request
// carries "Authorization: Bearer" with a token for its repository's
// "pull,push" scope, from auth; with auth nil it carries none.
type client struct {
	base *url.URL
	hc   *http.Client
	auth *tokenSource
	// actions are the actions its tokens ask for; "" means "pull,push".
	actions string
	// server, if set, reads the registry process's CPU time and response
	// bytes, for the blob workload; nil in tests.
	server *serverProbe
}

// newClient returns a client for the registry at base (e.g.
// "http://127.0.0.1:5000"). Its transport keeps enough idle connections
// for every load worker to reuse its own.
func newClient(base string) (*client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse registry url: %w", err)
	}
	tr := &http.Transport{
		Proxy:               nil, // loopback only; never route through $HTTP_PROXY
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &client{base: u, hc: &http.Client{Transport: tr}}, nil
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// connect finds out whether the registry wants bearer tokens (GET /v2/
// answers 401 with a Bearer challenge rather than 200) and, if so, gets
// them from its token endpoint with password as the Basic credential. It
// reports whether requests carry tokens. A registry that wants tokens when
// password is nil is an error.
func (c *client) connect(ctx context.Context, password credential, now func() time.Time) (bool, error) {
	ts := newTokenSource(c.hc, c.base, benchUser, password, now)
	required, err := ts.required(ctx)
	if err != nil {
		return false, err
	}
	if !required {
		c.auth = nil
		return false, nil
	}
	if password == nil {
		return false, fmt.Errorf("%s wants bearer tokens, and the benchmark has no credential for it", c.base)
	}
	c.auth = ts
	return true, nil
}

// anonymous returns a client for the same registry, over the same
// connections, that sends no credentials.
func (c *client) anonymous() *client { return &client{base: c.base, hc: c.hc} }

// withPullToken returns a client for the same registry, over the same
// connections, whose tokens come from the pull token id with secret and
// ask for pull only, all a pull token may have.
func (c *client) withPullToken(id, secret string) *client {
	return &client{
		base: c.base, hc: c.hc, server: c.server, actions: "pull",
		auth: newTokenSource(c.hc, c.base, id, fixedCredential(secret), time.Now),
	}
}

// repoScope is the token scope every request for repo asks for: one token
// per repository serves both its pushes and its pulls (its pulls only, for
// a client with a pull token).
func (c *client) repoScope(repo string) string {
	return "repository:" + repo + ":" + cmp.Or(c.actions, "pull,push")
}

// authorize gets the tokens for repos ahead of a timed part, so that the
// measurement does not include a request to the token endpoint.
func (c *client) authorize(ctx context.Context, repos ...string) error {
	if c.auth == nil {
		return nil
	}
	for _, r := range repos {
		if _, err := c.auth.header(ctx, c.repoScope(r)); err != nil {
			return fmt.Errorf("authorize %s: %w", r, err)
		}
	}
	return nil
}

// newRequest returns a request for repo's part of the API, with its bearer
// token when the registry wants one.
func (c *client) newRequest(ctx context.Context, method, repo, rawURL string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if c.auth != nil {
		h, err := c.auth.header(ctx, c.repoScope(repo))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
		}
		if h != "" {
			req.Header.Set("Authorization", h)
		}
	}
	return req, nil
}

// statusError is an unexpected HTTP status, with the start of the body so
// that an OCI error code is visible.
type statusError struct {
	method, path string
	status       string
	body         string
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("%s %s: %s", e.method, e.path, e.status)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.method, e.path, e.status, e.body)
}

// do sends req and fails unless the status is one of want. The response
// body is copied to sink (or discarded) and always closed, so the
// connection goes back to the pool.
func (c *client) do(req *http.Request, sink io.Writer, want ...int) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	for _, w := range want {
		if resp.StatusCode == w {
			if sink == nil {
				sink = io.Discard
			}
			if _, err := io.Copy(sink, resp.Body); err != nil {
				return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
			}
			return resp, nil
		}
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return nil, &statusError{
		method: req.Method,
		path:   req.URL.Path,
		status: resp.Status,
		body:   strings.TrimSpace(string(excerpt)),
	}
}

func (c *client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = path
	u.RawQuery = q.Encode()
	return u.String()
}

// location resolves a Location header against the registry, keeping its
// query (Distribution carries upload state in "_state") and adding extra.
func (c *client) location(resp *http.Response, extra url.Values) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("%s %s: %s without a Location header", resp.Request.Method, resp.Request.URL.Path, resp.Status)
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("parse Location %q: %w", loc, err)
	}
	if len(extra) > 0 {
		q := u.Query()
		for k, vs := range extra {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// putManifest stores an image manifest under ref (a tag or its digest).
func (c *client) putManifest(ctx context.Context, repo, ref string, body []byte) error {
	req, err := c.newRequest(ctx, http.MethodPut, repo, c.url("/v2/"+repo+"/manifests/"+ref, nil), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaManifest)
	if _, err := c.do(req, nil, http.StatusCreated); err != nil {
		return fmt.Errorf("put manifest %s:%s: %w", repo, ref, err)
	}
	return nil
}

// getManifest fetches a manifest and returns its size in bytes.
func (c *client) getManifest(ctx context.Context, repo, ref string) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodGet, repo, c.url("/v2/"+repo+"/manifests/"+ref, nil), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", mediaManifest)
	var n countWriter
	if _, err := c.do(req, &n, http.StatusOK); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// headManifest checks a manifest exists and returns its Docker-Content-Digest.
func (c *client) headManifest(ctx context.Context, repo, ref string) (string, error) {
	req, err := c.newRequest(ctx, http.MethodHead, repo, c.url("/v2/"+repo+"/manifests/"+ref, nil), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", mediaManifest)
	resp, err := c.do(req, nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// listTags fetches one page of up to n tags. With decode false the body is
// discarded and nil returned, which keeps the load loop cheap.
func (c *client) listTags(ctx context.Context, repo string, n int, decode bool) ([]string, error) {
	req, err := c.newRequest(ctx, http.MethodGet, repo, c.url("/v2/"+repo+"/tags/list", url.Values{"n": {fmt.Sprint(n)}}), nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	var sink io.Writer
	if decode {
		sink = &buf
	}
	if _, err := c.do(req, sink, http.StatusOK); err != nil {
		return nil, err
	}
	if !decode {
		return nil, nil
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("decode tags list: %w", err)
	}
	return list.Tags, nil
}

// ping answers whether the registry serves /v2/: 200, or 401 when it wants
// a token (ping never sends one).
func (c *client) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/v2/", nil), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil, http.StatusOK, http.StatusUnauthorized)
	return err
}

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}
