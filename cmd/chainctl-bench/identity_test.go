package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/chainctl/chainctl/internal/apiv1"
	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/registry"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// benchConfigFile is the part of chainctl's configuration file the bench
// writes.
type benchConfigFile struct {
	Auth struct {
		PublicRepositories []policy.RepositoryPattern `yaml:"public_repositories"`
		Identities         []policy.Identity          `yaml:"identities"`
	} `yaml:"auth"`
	Events struct {
		AllowPrivateSinks bool `yaml:"allow_private_sinks"`
	} `yaml:"events"`
}

// TestChainctlAcceptsBenchIdentity checks, without a chainctl binary, that
// the configuration file the bench writes and the upstream tokens it mints
// get it access tokens from chainctl's own token service, through the
// same 401 challenge and /token request as against `registry serve`; that
// the token workload's setup and exchanges work there: a session token
// from /oauth/token, a pull token from /api/v1/pull-tokens, and /token
// with each; and that the event workloads' subscriptions to a loopback
// sink are accepted, read and deleted by chainctl's own
// /api/v1/subscriptions.
func TestChainctlAcceptsBenchIdentity(t *testing.T) {
	ctx := t.Context()
	up, err := newUpstreamIssuer()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "chainctl", "chainctl.yaml")
	if err := up.writeConfig(path); err != nil {
		t.Fatalf("writeConfig = %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file benchConfigFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("decode config:\n%s\n%v", b, err)
	}

	// chainctl's token service, as `registry serve` wires it: the service
	// name is the listen address, the realm <url>/token.
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewUnstartedServer(nil)
	service := srv.Listener.Addr().String()
	base := "http://" + service
	iss, err := issuer.New(ctx, db, issuer.WithIssuerURL(base))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.NewService(auth.WithSigner(iss), auth.WithServiceName(service), auth.WithRealm(base+"/token"),
		auth.WithPublicRepositories(file.Auth.PublicRepositories...), auth.WithIdentities(file.Auth.Identities...),
		auth.WithIdentityStore(db), auth.WithPullTokens(db, 0))
	if err != nil {
		t.Fatalf("NewService with the bench's configuration = %v", err)
	}
	if err := svc.RefreshIdentities(ctx); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range svc.Routes() {
		mux.Handle(r.Path, r.Handler)
	}
	if !file.Events.AllowPrivateSinks {
		t.Error("events.allow_private_sinks is off: chainctl refuses the event workloads' loopback sinks")
	}
	subs := events.NewSubscriptions(db, file.Events.AllowPrivateSinks)
	mux.Handle(apiv1.Prefix, apiv1.New(svc, apiv1.WithPullTokens(svc), apiv1.WithSubscriptions(subs)))
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		a := policy.Access{Type: policy.TypeRegistry}
		if r.URL.Path != "/v2/" {
			a = policy.Access{Type: policy.TypeRepository, Name: repoOfPath(r.URL.Path), Actions: []string{policy.ActionPull}}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				a.Actions = append(a.Actions, policy.ActionPush)
			}
		}
		if _, err := svc.Authorize(r, a); err != nil {
			var re *registry.Error
			if !errors.As(err, &re) {
				t.Errorf("Authorize = %v, want a *registry.Error", err)
				return
			}
			for k, v := range re.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(re.Status)
			return
		}
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
		}
	})
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)

	c, err := newClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	authn, err := c.connect(ctx, up.token, time.Now)
	if err != nil || !authn {
		t.Fatalf("connect = %v, %v; want true", authn, err)
	}
	if err := c.putManifest(ctx, "bench/get", "latest", []byte("{}")); err != nil {
		t.Errorf("push with a token = %v", err)
	}
	if _, err := c.getManifest(ctx, "bench/get", "latest"); err != nil {
		t.Errorf("pull with a token = %v", err)
	}
	anon := c.anonymous()
	if _, err := anon.getManifest(ctx, publicPrefix+"get", "latest"); err != nil {
		t.Errorf("anonymous pull of a public repository = %v", err)
	}
	if _, err := anon.getManifest(ctx, "bench/get", "latest"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("anonymous pull of bench/get = %v, want 401", err)
	}

	// The token workload, one exchange of each phase.
	session, err := c.session(ctx)
	if err != nil {
		t.Fatalf("session = %v", err)
	}
	id, secret, err := c.createPullToken(ctx, session, "bench-test")
	if err != nil {
		t.Fatalf("createPullToken = %v", err)
	}
	realm, service, err := c.auth.endpoint(ctx)
	if err != nil || realm != base+"/token" {
		t.Fatalf("endpoint = %q, %q, %v; want realm %s/token", realm, service, err, base)
	}
	for _, p := range []tokenPhase{
		{id: "session", ts: newTokenSource(c.hc, c.base, benchUser, fixedCredential(session), time.Now)},
		{id: "pull token", ts: newTokenSource(c.hc, c.base, id, fixedCredential(secret), time.Now)},
	} {
		if err := p.exchange(ctx, realm, service); err != nil {
			t.Errorf("exchange with a %s = %v", p.id, err)
		}
	}
	// Outside its patterns a pull token gets 200 and a token for nothing:
	// why exchange checks the scope granted.
	pt := newTokenSource(c.hc, c.base, id, fixedCredential(secret), time.Now)
	if tok, err := pt.request(ctx, realm, service, []string{"repository:other/x:pull"}); err != nil || tok.scope != "" {
		t.Errorf("request outside the patterns = scope %q, %v; want a token for nothing", tok.scope, err)
	}
	// Workload ptget: a pull token's access token opens the GET, and no
	// push.
	ptc := c.withPullToken(id, secret)
	if _, err := ptc.getManifest(ctx, "bench/get", "latest"); err != nil {
		t.Errorf("pull with a pull token = %v", err)
	}
	if err := ptc.putManifest(ctx, "bench/get", "pt", []byte("{}")); err == nil {
		t.Error("push with a pull token = nil, want an error")
	}
	bad := tokenPhase{id: "pull token", ts: newTokenSource(c.hc, c.base, id, fixedCredential(session), time.Now)}
	if err := bad.exchange(ctx, realm, service); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("exchange with a wrong secret = %v, want 401", err)
	}

	// The event workloads: a subscription to a loopback sink, its
	// pending count, and its deletion.
	sk, err := newSink(eventTypePull)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.close()
	sub, err := c.subscribe(ctx, session, subscriptionRequest{Sink: sk.url, Types: []string{"pull"}, Repositories: []string{evGetRepo}})
	if err != nil {
		t.Fatalf("subscribe = %v", err)
	}
	if !strings.HasPrefix(sub.id, "sub-") {
		t.Errorf("subscription id = %q, want sub-…", sub.id)
	}
	if got := subs.Matching(eventTypePull, evGetRepo); !slices.Equal(got, []string{sub.id}) {
		t.Errorf("Matching(pull, %s) = %q, want [%s]", evGetRepo, got, sub.id)
	}
	if n, err := sub.pending(ctx); err != nil || n != 0 {
		t.Errorf("pending = %d, %v; want 0", n, err)
	}
	if err := sub.delete(ctx); err != nil {
		t.Errorf("delete = %v", err)
	}
	if err := sub.delete(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("delete again = %v, want 404", err)
	}
}

// TestUpstreamToken checks the minted ID token's header and claims.
func TestUpstreamToken(t *testing.T) {
	up, err := newUpstreamIssuer()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	raw, err := up.token("127.0.0.1:5000", now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token = %q, want a compact JWS", raw)
	}
	for _, want := range []string{`"alg":"ES256"`, `"kid":"` + up.kid + `"`} {
		if h := decodeSegment(t, parts[0]); !strings.Contains(h, want) {
			t.Errorf("header = %s, want %s", h, want)
		}
	}
	claims := decodeSegment(t, parts[1])
	for _, want := range []string{`"iss":"https://bench.invalid"`, `"sub":"bench"`, `"aud":"127.0.0.1:5000"`, `"iat":1800000000`, `"exp":1800003600`} {
		if !strings.Contains(claims, want) {
			t.Errorf("claims = %s, want %s", claims, want)
		}
	}
}

func decodeSegment(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return string(b)
}
