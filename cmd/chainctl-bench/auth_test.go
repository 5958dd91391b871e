package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/fakeclock"
)

// fakeService is the service name the fake announces; the bench must
// read it from the challenge and send it back.
const fakeService = "fake.registry.test:5000"

// fakeCredential stands in for the upstream ID token: it names the
// service it was made for, so the fake can check the bench used the
// challenge's service.
func fakeCredential(service string, _ time.Time) (string, error) {
	return "upstream-token-for-" + service, nil
}

// fakeTokenAuth is a tiny Docker token authentication server in front of
// a registry handler: /v2/ routes need "Authorization: Bearer" with a
// token granting the repository, except anonymous GET and HEAD of
// bench-public/*; /token hands out tokens for the fake credential, and,
// as chainctl's does, for session tokens that /oauth/token exchanges it
// for and for pull tokens (Basic id:secret, pull only) that
// /api/v1/pull-tokens makes with a session token; and it has event
// subscriptions (fakeEvents).
type fakeTokenAuth struct {
	next   http.Handler
	now    func() time.Time
	ttl    time.Duration
	events *fakeEvents

	mu         sync.Mutex
	grants     map[string]fakeGrant     // by token
	sessions   map[string]bool          // session tokens issued
	pullTokens map[string]fakePullToken // by id
	st         fakeStats
}

type fakeGrant struct {
	repos  []string
	expiry time.Time
	// pullOnly is set for a pull token's grant: it opens GET and HEAD
	// only.
	pullOnly bool
}

type fakePullToken struct {
	secret   string
	patterns []string // "bench/*" or an exact name
}

// Credential kinds, for fakeStats.issuedBy.
const (
	kindUpstream  = "upstream"
	kindSession   = "session"
	kindPullToken = "pull token"
)

type fakeStats struct {
	issued         int
	issuedBy       map[string]int // by credential kind
	anonymousPulls int
	users          []string   // Basic user names, per token request
	passwords      []string   // Basic passwords, per token request
	scopes         [][]string // per token request
}

func newFakeTokenAuth(next http.Handler, now func() time.Time) *fakeTokenAuth {
	return &fakeTokenAuth{next: next, now: now, ttl: 5 * time.Minute, events: newFakeEvents(), grants: map[string]fakeGrant{},
		sessions: map[string]bool{}, pullTokens: map[string]fakePullToken{}, st: fakeStats{issuedBy: map[string]int{}}}
}

func (f *fakeTokenAuth) stats() fakeStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	st.issuedBy = maps.Clone(f.st.issuedBy)
	return st
}

func (f *fakeTokenAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/token":
		f.serveToken(w, r)
	case r.URL.Path == "/oauth/token":
		f.serveExchange(w, r)
	case r.URL.Path == "/api/v1/pull-tokens":
		f.serveCreatePullToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/v1/subscriptions"):
		f.events.serve(w, r, f.isSession)
	case r.URL.Path == "/v2/":
		if _, ok := f.grant(r); !ok {
			f.challenge(w, r, "")
			return
		}
		f.next.ServeHTTP(w, r)
	case strings.HasPrefix(r.URL.Path, "/v2/"):
		repo := repoOfPath(r.URL.Path)
		if r.Header.Get("Authorization") == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(repo, publicPrefix) {
			f.mu.Lock()
			f.st.anonymousPulls++
			f.mu.Unlock()
			f.next.ServeHTTP(w, r)
			return
		}
		if g, ok := f.grant(r); !ok || !slices.Contains(g.repos, repo) || g.pullOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			f.challenge(w, r, "repository:"+repo+":pull,push")
			return
		}
		f.events.serveRegistry(f.next, w, r, repo)
	default:
		http.NotFound(w, r)
	}
}

// repoOfPath returns the repository name of a /v2/<name>/... path; the
// name itself may hold "tags" or "blobs" (bench/tags).
func repoOfPath(p string) string {
	rest := strings.TrimPrefix(p, "/v2/")
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return name
	}
	for _, m := range []string{"/blobs/uploads/", "/manifests/", "/blobs/"} {
		if i := strings.LastIndex(rest, m); i >= 0 {
			return rest[:i]
		}
	}
	return rest
}

// isSession reports whether tok is a session token the fake issued.
func (f *fakeTokenAuth) isSession(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions[tok]
}

// grant returns the unexpired grant of the request's bearer token.
func (f *fakeTokenAuth) grant(r *http.Request) (fakeGrant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fakeGrant{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.grants[tok]
	return g, ok && f.now().Before(g.expiry)
}

func (f *fakeTokenAuth) challenge(w http.ResponseWriter, r *http.Request, scope string) {
	v := fmt.Sprintf(`Bearer realm="http://%s/token",service="%s"`, r.Host, fakeService)
	if scope != "" {
		v += `,scope="` + scope + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
}

func (f *fakeTokenAuth) serveToken(w http.ResponseWriter, r *http.Request) {
	user, pw, _ := r.BasicAuth()
	q := r.URL.Query()
	upstream, _ := fakeCredential(fakeService, time.Time{})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.users = append(f.st.users, user)
	f.st.passwords = append(f.st.passwords, pw)
	f.st.scopes = append(f.st.scopes, q["scope"])
	kind := ""
	pt, isPullToken := f.pullTokens[user]
	switch {
	case isPullToken && pw == pt.secret:
		kind = kindPullToken
	case pw == upstream:
		kind = kindUpstream
	case f.sessions[pw]:
		kind = kindSession
	}
	if r.Method != http.MethodGet || q.Get("service") != fakeService || kind == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+fakeService+`"`)
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusUnauthorized)
		return
	}
	g := fakeGrant{pullOnly: kind == kindPullToken}
	var granted []string
	for _, s := range q["scope"] {
		typ, rest, _ := strings.Cut(s, ":")
		i := strings.LastIndex(rest, ":")
		if typ != "repository" || i < 0 {
			http.Error(w, `{"error":"invalid_scope"}`, http.StatusBadRequest)
			return
		}
		name, actions := rest[:i], rest[i+1:]
		if g.pullOnly {
			// What was asked, intersected with pull on the token's patterns.
			if !slices.Contains(strings.Split(actions, ","), "pull") || !slices.ContainsFunc(pt.patterns, func(p string) bool {
				prefix, glob := strings.CutSuffix(p, "*")
				return name == p || glob && strings.HasPrefix(name, prefix)
			}) {
				continue
			}
			actions = "pull"
		}
		g.repos = append(g.repos, name)
		granted = append(granted, "repository:"+name+":"+actions)
	}
	f.st.issued++
	f.st.issuedBy[kind]++
	tok := fmt.Sprintf("tok-%d", f.st.issued)
	g.expiry = f.now().Add(f.ttl)
	f.grants[tok] = g
	writeFakeJSON(w, http.StatusOK, map[string]any{"token": tok, "access_token": tok, "expires_in": int(f.ttl.Seconds()), "scope": strings.Join(granted, " ")})
}

// serveExchange answers POST /oauth/token: the fake credential, as an RFC
// 8693 subject token, for a session token.
func (f *fakeTokenAuth) serveExchange(w http.ResponseWriter, r *http.Request) {
	upstream, _ := fakeCredential(fakeService, time.Time{})
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != grantTokenExchange ||
		r.PostForm.Get("subject_token_type") != tokenTypeIDToken || r.PostForm.Get("subject_token") != upstream {
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	session := fmt.Sprintf("session-%d", len(f.sessions)+1)
	f.sessions[session] = true
	writeFakeJSON(w, http.StatusOK, map[string]any{"access_token": session, "token_type": "Bearer", "expires_in": 3600})
}

// serveCreatePullToken answers POST /api/v1/pull-tokens with a session
// token: 201 with the new token's id and secret.
func (f *fakeTokenAuth) serveCreatePullToken(w http.ResponseWriter, r *http.Request) {
	session, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var req struct {
		Name         string   `json:"name"`
		Repositories []string `json:"repositories"`
		TTLSeconds   int64    `json:"ttl_seconds"`
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || !f.sessions[session] {
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Name == "" || len(req.Repositories) == 0 || req.TTLSeconds <= 0 {
		http.Error(w, `{"errors":[{"code":"INVALID"}]}`, http.StatusBadRequest)
		return
	}
	n := len(f.pullTokens) + 1
	id, secret := fmt.Sprintf("pt-%d", n), fmt.Sprintf("ccpt_secret%d", n)
	f.pullTokens[id] = fakePullToken{secret: secret, patterns: req.Repositories}
	writeFakeJSON(w, http.StatusCreated, map[string]any{"id": id, "secret": secret, "name": req.Name, "repositories": req.Repositories})
}

func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestTokenSource(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	fake := newFakeTokenAuth(ok, clk.Now)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	ts := newTokenSource(srv.Client(), base, benchUser, fakeCredential, clk.Now)
	ctx := t.Context()

	if req, err := ts.required(ctx); err != nil || !req {
		t.Fatalf("required = %v, %v; want true", req, err)
	}
	get := func(want string, scopes ...string) {
		t.Helper()
		h, err := ts.header(ctx, scopes...)
		if err != nil || h != want {
			t.Fatalf("header(%q) = %q, %v; want %q", scopes, h, err, want)
		}
	}
	const a = "repository:bench/a:pull,push"
	get("Bearer tok-1", a)
	get("Bearer tok-1", a) // cached
	st := fake.stats()
	if st.issued != 1 || !slices.Equal(st.users, []string{benchUser}) || !slices.Equal(st.passwords, []string{"upstream-token-for-" + fakeService}) ||
		!slices.Equal(st.scopes[0], []string{a}) {
		t.Errorf("token requests = %+v; want one, as %q with the service's credential, for %q", st, benchUser, a)
	}

	// The token lives 300 s and is replaced once less than 60 s remain.
	clk.Advance(239 * time.Second)
	get("Bearer tok-1", a)
	clk.Advance(2 * time.Second)
	get("Bearer tok-2", a)

	// Scope sets are keyed regardless of order.
	const x, y = "repository:x:pull", "repository:y:pull"
	get("Bearer tok-3", x, y)
	get("Bearer tok-3", y, x)
	if st := fake.stats(); !slices.Equal(st.scopes[2], []string{x, y}) {
		t.Errorf("scopes sent = %q, want %q", st.scopes[2], []string{x, y})
	}

	// Concurrent first uses of a scope set share one token request.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := ts.header(ctx, "repository:c:pull"); err != nil {
				t.Errorf("header = %v", err)
			}
		})
	}
	wg.Wait()
	if n := fake.stats().issued; n != 4 {
		t.Errorf("tokens issued = %d, want 4", n)
	}

	// The token opens its repository.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v2/bench/a/manifests/latest", nil)
	h, _ := ts.header(ctx, a)
	req.Header.Set("Authorization", h)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET with the token = %s, want 200", resp.Status)
	}
}

func TestTokenSourceErrors(t *testing.T) {
	challenge := func(v string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", v)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}
	tests := []struct {
		name     string
		handler  http.Handler
		password credential
		want     string
	}{
		{
			name:     "wrong credential",
			handler:  newFakeTokenAuth(http.NotFoundHandler(), time.Now),
			password: func(string, time.Time) (string, error) { return "wrong", nil },
			want:     "401 Unauthorized",
		},
		{
			name:     "no credential",
			handler:  newFakeTokenAuth(http.NotFoundHandler(), time.Now),
			password: nil,
			want:     "no credential",
		},
		{
			name:     "credential fails",
			handler:  newFakeTokenAuth(http.NotFoundHandler(), time.Now),
			password: func(string, time.Time) (string, error) { return "", fmt.Errorf("no key") },
			want:     "no key",
		},
		{name: "challenge without realm", handler: challenge(`Bearer service="s"`), password: fakeCredential, want: "without a realm"},
		{name: "basic challenge", handler: challenge(`Basic realm="s"`), password: fakeCredential, want: "no bearer challenge"},
		{
			name:     "ping fails",
			handler:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }),
			password: fakeCredential,
			want:     "502",
		},
		{
			name: "answer without a token",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					challenge(`Bearer realm="/token"`)(w, r) // a relative realm
					return
				}
				_, _ = w.Write([]byte(`{"expires_in":300}`))
			}),
			password: fakeCredential,
			want:     "holds no token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			base, _ := url.Parse(srv.URL)
			ts := newTokenSource(srv.Client(), base, benchUser, tt.password, time.Now)
			h, err := ts.header(t.Context(), "repository:a:pull")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("header = %q, %v; want an error containing %q", h, err, tt.want)
			}
		})
	}
}

// TestTokenPhaseExchange checks that every exchange of the token workload
// must be a 200 with a token that grants the scope asked.
func TestTokenPhaseExchange(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string // "" for success
	}{
		{name: "granted", status: http.StatusOK, body: `{"token":"t","scope":"` + tokenScope + `"}`},
		{name: "granted nothing", status: http.StatusOK, body: `{"token":"t"}`, want: `granted "", want`},
		{name: "granted another", status: http.StatusOK, body: `{"token":"t","scope":"repository:bench/x:pull"}`, want: "granted"},
		{name: "no token", status: http.StatusOK, body: `{"scope":"` + tokenScope + `"}`, want: "holds no token"},
		{name: "refused", status: http.StatusUnauthorized, body: `{"error":"invalid_grant"}`, want: "401 Unauthorized"},
		{name: "limited", status: http.StatusTooManyRequests, body: `{"error":"temporarily_unavailable"}`, want: "429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, pw, _ := r.BasicAuth(); u != "pt-1" || pw != "ccpt_x" || r.URL.Query().Get("scope") != tokenScope {
					t.Errorf("token request as %q:%q for %q", u, pw, r.URL.Query()["scope"])
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL)
			p := tokenPhase{id: "token-pull", ts: newTokenSource(srv.Client(), base, "pt-1", fixedCredential("ccpt_x"), time.Now)}
			err := p.exchange(t.Context(), srv.URL+"/token", fakeService)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("exchange = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	t.Run("no auth", func(t *testing.T) {
		// Distribution: GET /v2/ answers 200, and no request may carry
		// credentials.
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			if h := r.Header.Get("Authorization"); h != "" {
				t.Errorf("%s %s with Authorization %q", r.Method, r.URL.Path, h)
			}
			switch r.Method {
			case http.MethodPut:
				w.WriteHeader(http.StatusCreated)
			default:
				w.WriteHeader(http.StatusOK)
			}
		}))
		defer srv.Close()
		c, err := newClient(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		authn, err := c.connect(t.Context(), fakeCredential, time.Now)
		if err != nil || authn {
			t.Fatalf("connect = %v, %v; want false, nil", authn, err)
		}
		if err := c.authorize(t.Context(), "r"); err != nil {
			t.Errorf("authorize = %v", err)
		}
		if err := c.putManifest(t.Context(), "r", "v1", []byte("{}")); err != nil {
			t.Errorf("putManifest = %v", err)
		}
		if _, err := c.getManifest(t.Context(), "r", "v1"); err != nil {
			t.Errorf("getManifest = %v", err)
		}
		if n := requests.Load(); n != 3 {
			t.Errorf("requests = %d, want 3 (ping, PUT, GET)", n)
		}
	})
	t.Run("tokens wanted, no credential", func(t *testing.T) {
		srv := httptest.NewServer(newFakeTokenAuth(http.NotFoundHandler(), time.Now))
		defer srv.Close()
		c, err := newClient(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		if authn, err := c.connect(t.Context(), nil, time.Now); err == nil || authn {
			t.Errorf("connect = %v, %v; want an error", authn, err)
		}
	})
}
