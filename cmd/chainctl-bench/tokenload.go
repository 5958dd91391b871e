package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The pull-token workloads run against chainctl's targets only:
// Distribution has no pull tokens. A pull token (internal/auth/pulltokens.go)
// is a long-lived, pull-only credential that /token takes as HTTP Basic
// <id>:<secret>. The benchmark makes its own for bench/*, as `chainctl
// pull-token create` does: it exchanges an upstream ID token for a session
// token (RFC 8693, POST /oauth/token) and, with that, POSTs
// /api/v1/pull-tokens. Both steps are setup, not timed.
//
// Workload token measures /token itself, in two load phases of one run
// that ask for the same scope: with the session token as the Basic
// password (chainctl verifies a JWT), and with the pull token (chainctl
// reads it from the store, compares a hash and, at most once a minute,
// writes its last use). Both then sign an access token. Every request is a
// whole exchange, nothing is cached, and every answer must be 200 with a
// token granting the scope asked. The project asks that a pull token cost
// no more than a session token: pull/session ≥ 0.8× in requests per second.
//
// Workload ptget is get with the access token a pull token gets: the same
// manifest GETs by tag of the same repository, where chainctl's Authorize
// also checks that the pull token is live (a lookup in memory, and a read
// of the store's pull-token version at most once a second). Its figure
// goes next to get's, as ptget/get.

// Token workload constants.
const (
	// tokenScope is what every request of the token workload asks for: a
	// pull, which both credentials may have.
	tokenScope = "repository:bench/token:pull"
	// pullTokenPattern is the repositories the benchmark's pull tokens name.
	pullTokenPattern = "bench/*"
	// pullTokenTTL is their lifetime, well beyond any run.
	pullTokenTTL = 24 * time.Hour
)

// RFC 8693 identifiers, for the session token exchange.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
)

// session exchanges an upstream ID token for a session token of the
// benchmark's identity at chainctl's /oauth/token (RFC 8693 §2).
func (c *client) session(ctx context.Context) (string, error) {
	_, service, err := c.auth.endpoint(ctx)
	if err != nil {
		return "", err
	}
	idToken, err := c.auth.password(service, c.auth.now())
	if err != nil {
		return "", fmt.Errorf("token exchange: upstream token: %w", err)
	}
	form := url.Values{
		"grant_type":         {grantTokenExchange},
		"subject_token":      {idToken},
		"subject_token_type": {tokenTypeIDToken},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/oauth/token", nil), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var body bytes.Buffer
	if _, err := c.do(req, &body, http.StatusOK); err != nil {
		return "", fmt.Errorf("token exchange: %w", err)
	}
	var ans struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body.Bytes(), &ans); err != nil {
		return "", fmt.Errorf("token exchange: decode answer: %w", err)
	}
	if ans.AccessToken == "" {
		return "", errors.New("token exchange: the answer holds no access_token")
	}
	return ans.AccessToken, nil
}

// createPullToken makes a pull token for pullTokenPattern, named name, with
// a session token, and returns its id and secret.
func (c *client) createPullToken(ctx context.Context, session, name string) (id, secret string, err error) {
	b, err := json.Marshal(map[string]any{
		"name":         name,
		"repositories": []string{pullTokenPattern},
		"ttl_seconds":  int64(pullTokenTTL / time.Second),
	})
	if err != nil {
		return "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/api/v1/pull-tokens", nil), bytes.NewReader(b))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+session)
	req.Header.Set("Content-Type", "application/json")
	var body bytes.Buffer
	if _, err := c.do(req, &body, http.StatusCreated); err != nil {
		return "", "", fmt.Errorf("create pull token: %w", err)
	}
	var pt struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(body.Bytes(), &pt); err != nil {
		return "", "", fmt.Errorf("create pull token: decode answer: %w", err)
	}
	if pt.ID == "" || pt.Secret == "" {
		return "", "", errors.New("create pull token: the answer holds no id or no secret")
	}
	return pt.ID, pt.Secret, nil
}

// tokenPhase is one phase of the token workload: /token exchanges with
// one credential, reported under id.
type tokenPhase struct {
	id string
	ts *tokenSource
}

// exchange asks the token endpoint for tokenScope once and checks the
// answer grants it: a credential that got a token for nothing would
// otherwise pass for a fast one.
func (p tokenPhase) exchange(ctx context.Context, realm, service string) error {
	tok, err := p.ts.request(ctx, realm, service, []string{tokenScope})
	if err == nil && tok.scope != tokenScope {
		err = fmt.Errorf("get token: granted %q, want %q", tok.scope, tokenScope)
	}
	return err
}

// runToken is workload token. Against a registry that wants no tokens it
// measures nothing.
func runToken(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	if c.auth == nil {
		return outcome{cpu: -1}, nil
	}
	realm, service, err := c.auth.endpoint(ctx)
	if err != nil {
		return outcome{}, err
	}
	session, err := c.session(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	id, secret, err := c.createPullToken(ctx, session, fmt.Sprintf("bench-token-%d", round))
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	phases := []tokenPhase{
		{id: "token-session", ts: newTokenSource(c.hc, c.base, benchUser, fixedCredential(session), time.Now)},
		{id: "token-pull", ts: newTokenSource(c.hc, c.base, id, fixedCredential(secret), time.Now)},
	}
	// Alternate which phase goes first from round to round, so that
	// neither always runs on the warmer (or busier) machine.
	if round%2 == 1 {
		slices.Reverse(phases)
	}
	// One untimed exchange each checks the credential before any load,
	// and takes the pull token's first last-used write out of the
	// measurement: in steady state that write comes once a minute.
	for _, p := range phases {
		if err := p.exchange(ctx, realm, service); err != nil {
			return outcome{}, fmt.Errorf("setup: %s: %w", p.id, err)
		}
	}
	out := outcome{values: map[string]float64{}, cpu: -1}
	var cpuSecs, wallSecs float64
	cpuKnown := true
	for _, p := range phases {
		l, spent, err := probedPhase(ctx, c, cfg, func(ctx context.Context) error { return p.exchange(ctx, realm, service) })
		if err != nil {
			return outcome{}, fmt.Errorf("%s: %w", p.id, err)
		}
		out.values[p.id] = float64(l.requests) / l.wall.Seconds()
		if spent.cpuOK {
			out.values[p.id+"-cpu"] = micros(spent.cpu) / float64(l.requests)
		}
		cpuKnown = cpuKnown && l.cpu >= 0
		cpuSecs += l.cpu * l.wall.Seconds()
		wallSecs += l.wall.Seconds()
	}
	if cpuKnown && wallSecs > 0 {
		out.cpu = cpuSecs / wallSecs // over both phases
	}
	return out, nil
}

// runPullTokenGet is workload ptget. Against a registry that wants no
// tokens it measures nothing.
func runPullTokenGet(ctx context.Context, c *client, cfg config, round int) (outcome, error) {
	if c.auth == nil {
		return outcome{cpu: -1}, nil
	}
	session, err := c.session(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	id, secret, err := c.createPullToken(ctx, session, fmt.Sprintf("bench-ptget-%d", round))
	if err != nil {
		return outcome{}, fmt.Errorf("setup: %w", err)
	}
	o, err := getLoad(ctx, c, c.withPullToken(id, secret), "bench/get", "ptget", cfg)
	// The table compares the rates; latencies are reported for get.
	delete(o.values, "ptget-p50")
	delete(o.values, "ptget-p99")
	return o, err
}
