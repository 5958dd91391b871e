package issuer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		wantErr bool
	}{
		{name: "https", opts: []Option{WithIssuerURL("https://registry.example.com")}},
		{name: "with a path", opts: []Option{WithIssuerURL("https://example.com/registry")}},
		{name: "http on loopback", opts: []Option{WithIssuerURL("http://127.0.0.1:5000")}},
		{name: "no issuer URL", opts: nil, wantErr: true},
		{name: "relative", opts: []Option{WithIssuerURL("registry.example.com")}, wantErr: true},
		{name: "other scheme", opts: []Option{WithIssuerURL("ftp://registry.example.com")}, wantErr: true},
		{name: "query", opts: []Option{WithIssuerURL("https://registry.example.com?x=1")}, wantErr: true},
		{name: "empty query", opts: []Option{WithIssuerURL("https://registry.example.com?")}, wantErr: true},
		{name: "fragment", opts: []Option{WithIssuerURL("https://registry.example.com#x")}, wantErr: true},
		{name: "trailing slash", opts: []Option{WithIssuerURL("https://registry.example.com/")}, wantErr: true},
		{name: "user info", opts: []Option{WithIssuerURL("https://u:p@registry.example.com")}, wantErr: true},
		{name: "zero lifetime", opts: []Option{WithIssuerURL(testIssuer), WithMaxTokenLifetime(0)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), &memKeys{}, tt.opts...)
			if (err != nil) != tt.wantErr {
				t.Errorf("New() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if _, err := New(t.Context(), nil, WithIssuerURL(testIssuer)); err == nil {
		t.Errorf("New() without a store = nil, want an error")
	}
	st := &memKeys{fail: true}
	if _, err := New(t.Context(), st, WithIssuerURL(testIssuer)); !errors.Is(err, errStoreDown) {
		t.Errorf("New() on a failing store = %v, want %v", err, errStoreDown)
	}
}

// TestKeyPersistence opens the same SQLite database twice: the second
// issuer loads the first one's key instead of making its own.
func TestKeyPersistence(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.db")
	clk := newClock()

	var kid, token string
	for n := range 3 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d = %v", n, err)
		}
		i := newTestIssuer(t, db, clk)
		if n == 0 {
			token = sign(t, i, "alice", time.Hour)
			kid = kidOf(t, token)
		}
		if got := activeKid(t, i); got != kid {
			t.Errorf("start #%d signs with %s, want %s", n, got, kid)
		}
		if _, err := i.Verify(ctx, token, testAudience); err != nil {
			t.Errorf("start #%d: Verify(first token) = %v", n, err)
		}
		keys, err := db.SigningKeys(ctx)
		if err != nil || len(keys) != 1 {
			t.Fatalf("start #%d: SigningKeys() = %v, %v, want one key", n, keys, err)
		}
		k := keys[0]
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			t.Fatalf("stored key is not PKCS #8: %v", err)
		}
		ec, ok := priv.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P256() || k.Algorithm != "ES256" || !k.Active() {
			t.Errorf("stored key = %v (%T), want an active ES256 P-256 key", k, priv)
		}
		if tp, _ := thumbprint(&ec.PublicKey); tp != k.ID {
			t.Errorf("stored key id = %s, want its thumbprint %s", k.ID, tp)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRotate: a token signed by a retired key verifies, and the key is
// published, until the retention has passed; then the key is gone.
func TestRotate(t *testing.T) {
	ctx := t.Context()
	st := &memKeys{}
	clk := newClock()
	i := newTestIssuer(t, st, clk, WithMaxTokenLifetime(time.Hour))
	retention := time.Hour + MaxClockSkew + staleLimit

	oldKid := activeKid(t, i)
	oldToken := sign(t, i, "alice", time.Hour)
	newKid, err := i.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate() = %v", err)
	}
	if newKid == oldKid {
		t.Fatalf("Rotate() kept key %s", oldKid)
	}
	if got := activeKid(t, i); got != newKid {
		t.Errorf("after Rotate, Sign uses %s, want %s", got, newKid)
	}
	if got, want := st.activeIDs(t), []string{newKid}; !slices.Equal(got, want) {
		t.Errorf("active keys after Rotate = %v, want %v", got, want)
	}
	oldPriv := st.private(t, oldKid)
	// freshOld is a token the retired key signs now, to tell whether it
	// still verifies once every token it really signed has expired.
	freshOld := func() string {
		now := clk.Now()
		return forge(t, map[string]any{"alg": "ES256", "kid": oldKid, "typ": "JWT"}, map[string]any{
			"iss": testIssuer, "aud": testAudience, "sub": "alice",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		}, es(oldPriv))
	}

	steps := []struct {
		name        string
		advance     time.Duration // from the rotation
		wantOld     bool          // the old key is published and verifies
		wantOldTok  bool          // the token it signed before the rotation verifies
		wantRetired int           // retired keys in the store
	}{
		{name: "at rotation", advance: 0, wantOld: true, wantOldTok: true, wantRetired: 1},
		{name: "old token near its expiry", advance: time.Hour - time.Second, wantOld: true, wantOldTok: true, wantRetired: 1},
		{name: "old token expired, skew spent", advance: time.Hour + MaxClockSkew + time.Second, wantOld: true, wantRetired: 1},
		{name: "end of retention", advance: retention - time.Second, wantOld: true, wantRetired: 1},
		{name: "after retention", advance: retention, wantOld: false, wantRetired: 0},
	}
	rotated := clk.Now()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Advance(rotated.Add(s.advance).Sub(clk.Now()))
			if _, err := i.MaybeRotate(ctx); err != nil {
				t.Fatalf("MaybeRotate() = %v", err)
			}
			kids := publishedKids(t, i)
			if got := slices.Contains(kids, oldKid); got != s.wantOld {
				t.Errorf("JWKS %v has the old key: %v, want %v", kids, got, s.wantOld)
			}
			if !slices.Contains(kids, newKid) {
				t.Errorf("JWKS %v lacks the new key %s", kids, newKid)
			}
			_, err := i.Verify(ctx, freshOld(), testAudience)
			if s.wantOld && err != nil {
				t.Errorf("Verify(signed by the retired key) = %v, want nil", err)
			}
			if !s.wantOld && !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Verify(signed by the deleted key) = %v, want %v", err, ErrUnknownKey)
			}
			if _, err := i.Verify(ctx, oldToken, testAudience); (err == nil) != s.wantOldTok {
				t.Errorf("Verify(token from before the rotation) = %v, want success %v", err, s.wantOldTok)
			}
			retired := 0
			for _, k := range st.stored(t) {
				if !k.Active() {
					retired++
				}
			}
			if retired != s.wantRetired {
				t.Errorf("%d retired keys stored, want %d", retired, s.wantRetired)
			}
			if _, err := i.Verify(ctx, sign(t, i, "bob", time.Hour), testAudience); err != nil {
				t.Errorf("Verify(new token) = %v", err)
			}
		})
	}
}

func TestMaybeRotate(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		advance time.Duration
		want    bool
	}{
		{name: "young key", age: 24 * time.Hour, advance: 23 * time.Hour, want: false},
		{name: "due key", age: 24 * time.Hour, advance: 24 * time.Hour, want: true},
		{name: "default age, young", advance: 29 * 24 * time.Hour, want: false},
		{name: "default age, due", advance: 30 * 24 * time.Hour, want: true},
		{name: "off", age: -1, advance: 365 * 24 * time.Hour, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			st := &memKeys{}
			clk := newClock()
			var opts []Option
			if tt.age != 0 {
				opts = append(opts, WithRotationAge(tt.age))
			}
			i := newTestIssuer(t, st, clk, opts...)
			before := activeKid(t, i)
			clk.Advance(tt.advance)
			got, err := i.MaybeRotate(ctx)
			if err != nil || got != tt.want {
				t.Fatalf("MaybeRotate() = %v, %v, want %v, nil", got, err, tt.want)
			}
			if changed := activeKid(t, i) != before; changed != tt.want {
				t.Errorf("signing key changed: %v, want %v", changed, tt.want)
			}
			if got, err := i.MaybeRotate(ctx); err != nil || got {
				t.Errorf("MaybeRotate() again = %v, %v, want false, nil", got, err)
			}
		})
	}
}

// TestReplicas runs several issuers on one store, as replicas sharing a
// database do.
func TestReplicas(t *testing.T) {
	ctx := t.Context()
	clk := newClock()

	t.Run("second start loads the key", func(t *testing.T) {
		st := &memKeys{}
		a, b := newTestIssuer(t, st, clk), newTestIssuer(t, st, clk)
		if ka, kb := activeKid(t, a), activeKid(t, b); ka != kb {
			t.Errorf("replicas sign with %s and %s, want one key", ka, kb)
		}
	})

	t.Run("simultaneous first starts", func(t *testing.T) {
		// Both replicas found the store empty and stored a key.
		st := &memKeys{}
		k1, _ := generateKey(clk.Now())
		k2, _ := generateKey(clk.Now())
		for _, k := range []store.SigningKey{k1, k2} {
			if err := st.PutSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		want := max(k1.ID, k2.ID) // same creation time: the larger id is newer
		a, b := newTestIssuer(t, st, clk), newTestIssuer(t, st, clk)
		if ka, kb := activeKid(t, a), activeKid(t, b); ka != want || kb != want {
			t.Errorf("replicas sign with %s and %s, want %s", ka, kb, want)
		}
		if got := st.activeIDs(t); !slices.Equal(got, []string{want}) {
			t.Errorf("active keys = %v, want [%s]", got, want)
		}
	})

	t.Run("rotation on one replica reaches the other", func(t *testing.T) {
		st := &memKeys{}
		a, b := newTestIssuer(t, st, clk), newTestIssuer(t, st, clk)
		clk.Advance(minReload)
		kid, err := a.Rotate(ctx)
		if err != nil {
			t.Fatalf("Rotate() = %v", err)
		}
		// b has not reloaded: the unknown kid makes it.
		if _, err := b.Verify(ctx, sign(t, a, "alice", time.Hour), testAudience); err != nil {
			t.Errorf("b.Verify(token from a after rotation) = %v", err)
		}
		// b signs with its loaded key until it refreshes.
		clk.Advance(refreshAfter)
		if got := activeKid(t, b); got != kid {
			t.Errorf("b signs with %s after refreshing, want %s", got, kid)
		}
		if got := publishedKids(t, b); !slices.Contains(got, kid) {
			t.Errorf("b publishes %v, want it to include %s", got, kid)
		}
	})

	t.Run("concurrent rotations converge", func(t *testing.T) {
		st := &memKeys{}
		replicas := []*Issuer{newTestIssuer(t, st, clk), newTestIssuer(t, st, clk), newTestIssuer(t, st, clk)}
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Go(func() {
				if _, err := r.Rotate(ctx); err != nil {
					t.Errorf("Rotate() = %v", err)
				}
			})
		}
		wg.Wait()
		for _, r := range replicas {
			if _, err := r.MaybeRotate(ctx); err != nil {
				t.Fatalf("MaybeRotate() = %v", err)
			}
		}
		active := st.activeIDs(t)
		if len(active) != 1 {
			t.Fatalf("active keys after concurrent rotations = %v, want one", active)
		}
		for n, r := range replicas {
			if got := activeKid(t, r); got != active[0] {
				t.Errorf("replica %d signs with %s, want %s", n, got, active[0])
			}
		}
	})

	t.Run("all keys retired elsewhere", func(t *testing.T) {
		st := &memKeys{}
		a := newTestIssuer(t, st, clk)
		old := activeKid(t, a)
		if err := st.RetireSigningKey(ctx, old, clk.Now()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(refreshAfter)
		if got := activeKid(t, a); got == old {
			t.Errorf("Sign after every key was retired uses the retired key %s", old)
		}
	})
}

func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	ctx := t.Context()
	st := &memKeys{}
	clk := newClock()
	i := newTestIssuer(t, st, clk)
	foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := func(n int) string {
		return forge(t, map[string]any{"alg": "ES256", "kid": strings.Repeat("x", n+1)},
			validClaims(clk.Now()), es(foreign))
	}

	clk.Advance(minReload)
	before := st.readCount()
	for n := range 50 {
		if _, err := i.Verify(ctx, forged(n), testAudience); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("Verify(unknown kid) = %v, want %v", err, ErrUnknownKey)
		}
	}
	if got := st.readCount() - before; got != 1 {
		t.Errorf("50 unknown kids read the store %d times, want 1", got)
	}
	clk.Advance(minReload)
	i.Verify(ctx, forged(0), testAudience)
	if got := st.readCount() - before; got != 2 {
		t.Errorf("after %v, the store was read %d times, want 2", minReload, got)
	}
}

func TestSign(t *testing.T) {
	ctx := t.Context()
	st := &memKeys{}
	clk := newClock()
	i := newTestIssuer(t, st, clk, WithMaxTokenLifetime(time.Hour))
	now := clk.Now()

	full := Claims{
		Subject:  "identity:ci",
		Audience: []string{testAudience, "other"},
		Expiry:   now.Add(5 * time.Minute),
		ID:       "fixed-id",
		Access:   []policy.Access{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}},
		Actor:    &Actor{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:o/r:ref:refs/heads/main"},
		Digest:   "sha256:" + strings.Repeat("a", 64),
	}
	wantFull := full
	wantFull.Issuer, wantFull.IssuedAt, wantFull.NotBefore = testIssuer, now, now

	tests := []struct {
		name    string
		claims  Claims
		want    *Claims // nil: only check that it verifies
		wantErr bool
	}{
		{name: "every claim", claims: full, want: &wantFull},
		{name: "our issuer", claims: Claims{Issuer: testIssuer, Audience: []string{testAudience}, Expiry: now.Add(time.Minute)}},
		{name: "max lifetime", claims: Claims{Audience: []string{testAudience}, Expiry: now.Add(time.Hour)}},
		{name: "other issuer", claims: Claims{Issuer: "https://evil.example", Audience: []string{testAudience}, Expiry: now.Add(time.Minute)}, wantErr: true},
		{name: "no audience", claims: Claims{Expiry: now.Add(time.Minute)}, wantErr: true},
		{name: "empty audience", claims: Claims{Audience: []string{""}, Expiry: now.Add(time.Minute)}, wantErr: true},
		{name: "no expiry", claims: Claims{Audience: []string{testAudience}}, wantErr: true},
		{name: "expired", claims: Claims{Audience: []string{testAudience}, Expiry: now}, wantErr: true},
		{name: "beyond max lifetime", claims: Claims{Audience: []string{testAudience}, Expiry: now.Add(time.Hour + time.Second)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := i.Sign(ctx, tt.claims)
			if tt.wantErr {
				if err == nil {
					t.Errorf("Sign(%+v) = nil error, want one", tt.claims)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sign(%+v) = %v", tt.claims, err)
			}
			got, err := i.Verify(ctx, raw, testAudience)
			if err != nil {
				t.Fatalf("Verify(Sign(%+v)) = %v", tt.claims, err)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verify(Sign()) = %+v, want %+v", got, tt.want)
			}
			if got.ID == "" || got.Issuer != testIssuer || got.IssuedAt.IsZero() || got.NotBefore.IsZero() {
				t.Errorf("Sign() left defaults unset: %+v", got)
			}
		})
	}

	a := sign(t, i, "x", time.Minute)
	b := sign(t, i, "x", time.Minute)
	ca, _ := i.Verify(ctx, a, testAudience)
	cb, _ := i.Verify(ctx, b, testAudience)
	if ca.ID == cb.ID {
		t.Errorf("two tokens got the same jti %q", ca.ID)
	}
}

// TestSignStaleKeys: when the store cannot be read, Sign keeps using the
// loaded key for a while, then refuses, since the key may have been
// retired elsewhere and must stop signing before it is deleted.
func TestSignStaleKeys(t *testing.T) {
	st := &memKeys{}
	clk := newClock()
	i := newTestIssuer(t, st, clk)
	st.setFail(true)
	clk.Advance(refreshAfter)
	if _, err := i.Sign(t.Context(), Claims{Audience: []string{testAudience}, Expiry: clk.Now().Add(time.Minute)}); err != nil {
		t.Errorf("Sign() with keys %v old = %v, want nil", refreshAfter, err)
	}
	clk.Advance(staleLimit - refreshAfter)
	if _, err := i.Sign(t.Context(), Claims{Audience: []string{testAudience}, Expiry: clk.Now().Add(time.Minute)}); err == nil {
		t.Errorf("Sign() with keys %v old = nil, want an error", staleLimit)
	}
	// Failed reads are retried at most every minReload.
	st.setFail(false)
	reads := st.readCount()
	for range 10 {
		i.Sign(t.Context(), Claims{Audience: []string{testAudience}, Expiry: clk.Now().Add(time.Minute)})
	}
	if got := st.readCount() - reads; got != 0 {
		t.Errorf("Sign() read the store %d times within %v of a failed read, want 0", got, minReload)
	}
	clk.Advance(minReload)
	if _, err := i.Sign(t.Context(), Claims{Audience: []string{testAudience}, Expiry: clk.Now().Add(time.Minute)}); err != nil {
		t.Errorf("Sign() once the store is back = %v, want nil", err)
	}
}

// TestPrivateKeysNotLogged runs the key life cycle with a debug logger and
// checks that no private key appears in the log, in any encoding.
func TestPrivateKeysNotLogged(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := &memKeys{}
	clk := newClock()
	i := newTestIssuer(t, st, clk, WithLogger(log), WithMaxTokenLifetime(time.Hour))
	// An undecodable key, logged as skipped.
	if err := st.PutSigningKey(ctx, store.SigningKey{ID: "broken", Algorithm: "ES256", PrivateKey: []byte("not a key at all"), Created: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	var privs [][]byte
	for range 3 {
		for _, k := range st.stored(t) {
			privs = append(privs, k.PrivateKey)
		}
		if _, err := i.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Hour)
		if _, err := i.MaybeRotate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(logs.String(), "signing key retired") || !strings.Contains(logs.String(), "broken") {
		t.Fatalf("expected key life cycle messages in the log:\n%s", logs.String())
	}
	for _, der := range privs {
		p, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			continue // the broken one
		}
		d, err := p.(*ecdsa.PrivateKey).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{
			base64.StdEncoding.EncodeToString(der), base64.RawURLEncoding.EncodeToString(der), hex.EncodeToString(der),
			base64.RawURLEncoding.EncodeToString(d), hex.EncodeToString(d), new(big.Int).SetBytes(d).String(),
		} {
			if strings.Contains(logs.String(), leak) {
				t.Fatalf("the log contains a private key:\n%s", logs.String())
			}
		}
	}
}
