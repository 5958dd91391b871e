package issuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/fakeclock"
)

// serve starts an issuer whose URL is an httptest server's (plus path)
// and which that server serves.
func serve(t *testing.T, st *memKeys, clk *fakeclock.Clock, path string) (*Issuer, *httptest.Server) {
	t.Helper()
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	i, err := New(t.Context(), st, WithIssuerURL(srv.URL+path), WithClock(clk.Now))
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	h = i.Handler()
	return i, srv
}

// TestDiscoveryWithGoOIDC checks the discovery document and JWKS with an
// independent OIDC client: go-oidc discovers the issuer and verifies its
// tokens, also after a rotation.
func TestDiscoveryWithGoOIDC(t *testing.T) {
	for _, path := range []string{"", "/registry"} {
		t.Run("path="+path, func(t *testing.T) {
			ctx := t.Context()
			clk := newClock()
			i, srv := serve(t, &memKeys{}, clk, path)

			p, err := oidc.NewProvider(ctx, srv.URL+path)
			if err != nil {
				t.Fatalf("oidc.NewProvider(%s) = %v", srv.URL+path, err)
			}
			var meta struct {
				JWKSURI string   `json:"jwks_uri"`
				Algs    []string `json:"id_token_signing_alg_values_supported"`
			}
			if err := p.Claims(&meta); err != nil {
				t.Fatal(err)
			}
			if want := srv.URL + path + JWKSPath; meta.JWKSURI != want {
				t.Errorf("jwks_uri = %q, want %q", meta.JWKSURI, want)
			}
			if !slices.Equal(meta.Algs, []string{"ES256"}) {
				t.Errorf("id_token_signing_alg_values_supported = %q, want [ES256]", meta.Algs)
			}
			if want := srv.URL + path + "/oauth/token"; p.Endpoint().TokenURL != want {
				t.Errorf("token_endpoint = %q, want %q", p.Endpoint().TokenURL, want)
			}

			v := p.VerifierContext(ctx, &oidc.Config{ClientID: testAudience, Now: clk.Now})
			check := func(when string) {
				t.Helper()
				raw := sign(t, i, "alice", time.Hour)
				// go-oidc signals the end of a JWKS fetch before it clears
				// its in-flight marker, so a Verify right after the first
				// one can wait on that finished fetch and see the old key
				// set; a moment later it fetches anew. Retry briefly.
				var tok *oidc.IDToken
				var err error
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					if tok, err = v.Verify(ctx, raw); err == nil || time.Now().After(deadline) {
						break
					}
				}
				if err != nil {
					t.Fatalf("%s: go-oidc Verify() = %v", when, err)
				}
				if tok.Subject != "alice" || tok.Issuer != srv.URL+path {
					t.Errorf("%s: go-oidc token = sub %q iss %q", when, tok.Subject, tok.Issuer)
				}
				// Our own verifier agrees.
				if _, err := i.Verify(ctx, raw, testAudience); err != nil {
					t.Errorf("%s: Verify() = %v", when, err)
				}
			}
			check("first key")
			if _, err := i.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			check("after rotation") // go-oidc refetches the JWKS on the new kid

			// A key set client on the JWKS alone refuses a foreign key.
			foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			forged := forge(t, map[string]any{"alg": "ES256", "kid": activeKid(t, i)}, validClaims(clk.Now()), es(foreign))
			ks := oidc.NewRemoteKeySet(ctx, srv.URL+path+JWKSPath)
			if _, err := ks.VerifySignature(ctx, forged); err == nil {
				t.Errorf("RemoteKeySet.VerifySignature(forged) = nil, want an error")
			}
			if _, err := ks.VerifySignature(ctx, sign(t, i, "bob", time.Hour)); err != nil {
				t.Errorf("RemoteKeySet.VerifySignature(signed) = %v", err)
			}
		})
	}
}

func TestJWKSIsPublic(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	st := &memKeys{}
	i, srv := serve(t, st, clk, "")
	if _, err := i.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(refreshAfter) // the handler serves a reloaded set

	resp, err := http.Get(srv.URL + JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)

	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s does not parse: %v", body, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
		if !k.IsPublic() || !k.Valid() || k.Algorithm != "ES256" || k.Use != "sig" {
			t.Errorf("JWKS key %s: public %v, valid %v, alg %q, use %q; want a valid public ES256 signing key",
				k.KeyID, k.IsPublic(), k.Valid(), k.Algorithm, k.Use)
		}
		if tp, _ := thumbprint(k.Key.(*ecdsa.PublicKey)); tp != k.KeyID {
			t.Errorf("JWKS kid %s is not the key's thumbprint %s", k.KeyID, tp)
		}
	}
	var stored []string
	for _, k := range st.stored(t) {
		stored = append(stored, k.ID)
	}
	slices.Sort(kids)
	slices.Sort(stored)
	if !slices.Equal(kids, stored) || len(kids) != 2 {
		t.Errorf("JWKS kids = %v, want the active and the retired key %v", kids, stored)
	}
	var raw struct{ Keys []map[string]any }
	json.Unmarshal(body, &raw)
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key has the private member %q: %s", private, body)
			}
		}
	}
}

func TestHandler(t *testing.T) {
	clk := newClock()
	_, srv := serve(t, &memKeys{}, clk, "/registry")
	tests := []struct {
		name         string
		method, path string
		wantStatus   int
		wantCache    string
		wantBody     string // a substring
	}{
		{name: "discovery", method: "GET", path: "/registry" + DiscoveryPath, wantStatus: 200,
			wantCache: "public, max-age=3600", wantBody: `"issuer":"` + srv.URL + `/registry"`},
		{name: "jwks", method: "GET", path: "/registry" + JWKSPath, wantStatus: 200,
			wantCache: "public, max-age=60", wantBody: `"kty":"EC"`},
		{name: "jwks with a query", method: "GET", path: "/registry" + JWKSPath + "?x=1", wantStatus: 200, wantCache: "public, max-age=60"},
		{name: "head", method: "HEAD", path: "/registry" + JWKSPath, wantStatus: 200, wantCache: "public, max-age=60"},
		{name: "post", method: "POST", path: "/registry" + JWKSPath, wantStatus: 405},
		{name: "delete", method: "DELETE", path: "/registry" + DiscoveryPath, wantStatus: 405},
		{name: "outside the issuer path", method: "GET", path: DiscoveryPath, wantStatus: 404},
		{name: "other path", method: "GET", path: "/registry/.well-known/other", wantStatus: 404},
		{name: "trailing slash", method: "GET", path: "/registry" + JWKSPath + "/", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", resp.Header.Get("Allow"), "GET, HEAD")
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if tt.method == "HEAD" {
				if len(body) != 0 || resp.ContentLength <= 0 {
					t.Errorf("HEAD: body %d bytes, Content-Length %d; want none and the GET length", len(body), resp.ContentLength)
				}
				return
			}
			if !json.Valid(body) || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %s, want JSON containing %s", body, tt.wantBody)
			}
		})
	}
}
