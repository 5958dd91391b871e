package credhelper

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// TestStoredBesideSession: storing a credential for a host (a pull token
// saved for docker) keeps the host's login session. "get" answers with
// the stored credential, chainctl's own session lookup still finds the
// session, and erase (docker logout) gives docker the session back.
func TestStoredBesideSession(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := now
	_, open := openTemp(t)
	tc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	const host = "registry.example.com"
	sess := tokencache.Entry{Kind: tokencache.KindSession, Token: "sess-secret", Expiry: now.Add(time.Hour)}
	if err := tc.Put(host, sess); err != nil {
		t.Fatal(err)
	}
	c := NewCache(open, WithClock(func() time.Time { return clock }))
	ctx := t.Context()
	get := func() (string, string, error) { return c.Get(ctx, "https://"+host) }
	// What chainctl's API commands use (Factory.Session): the session slot.
	sessionToken := func() string {
		t.Helper()
		e, err := session.Resolve(ctx, host, session.WithCache(tc), session.WithClock(func() time.Time { return clock }))
		if err != nil {
			t.Fatalf("session.Resolve() = %v", err)
		}
		return e.Token
	}

	saved, err := c.Save(ctx, Credentials{ServerURL: host, Username: "pt-aaaaaaaaaaaaaaaaaaaa", Secret: "ccpt_first"}, now.Add(24*time.Hour))
	if err != nil || saved != (Saved{Host: host, Session: true}) {
		t.Fatalf("Save(first) = %+v, %v, want the host, a session, nothing replaced", saved, err)
	}
	if u, s, err := get(); err != nil || u != "pt-aaaaaaaaaaaaaaaaaaaa" || s != "ccpt_first" {
		t.Errorf("get after Save = %q, %q, %v, want the pull token", u, s, err)
	}
	if tok := sessionToken(); tok != "sess-secret" {
		t.Errorf("the session after Save is %q, want it untouched", tok)
	}

	saved, err = c.Save(ctx, Credentials{ServerURL: host, Username: "pt-bbbbbbbbbbbbbbbbbbbb", Secret: "ccpt_second"}, now.Add(24*time.Hour))
	if err != nil || saved != (Saved{Host: host, Replaced: "pt-aaaaaaaaaaaaaaaaaaaa", Session: true}) {
		t.Errorf("Save(second) = %+v, %v, want it to name the token it replaced", saved, err)
	}
	if m, err := c.List(ctx); err != nil || len(m) != 1 || m[host] != "pt-bbbbbbbbbbbbbbbbbbbb" {
		t.Errorf("List() = %v, %v, want the second token only", m, err)
	}

	// A stored credential is handed out until it expires, not renewed:
	// with one minute left it still answers (sessions need five), and
	// once expired "get" says how to go back to the session.
	clock = now.Add(24*time.Hour - time.Minute)
	if _, s, err := get(); err != nil || s != "ccpt_second" {
		t.Errorf("get a minute before the token expires = %q, %v, want the token", s, err)
	}
	clock = now.Add(25 * time.Hour)
	if _, _, err := get(); err == nil || !strings.Contains(err.Error(), "have expired") || !strings.Contains(err.Error(), "`docker logout "+host+"`") {
		t.Errorf("get after the token expired = %v, want an error naming docker logout", err)
	}
	clock = now

	if err := c.Erase(ctx, host); err != nil {
		t.Fatalf("Erase() = %v", err)
	}
	if u, s, err := get(); err != nil || u != SessionUsername || s != "sess-secret" {
		t.Errorf("get after Erase = %q, %q, %v, want the session", u, s, err)
	}
	if m, err := c.List(ctx); err != nil || len(m) != 0 {
		t.Errorf("List() after Erase = %v, %v, want nothing", m, err)
	}
}

// TestStoredInSessionSlot: a credential an older chainctl stored in the
// session's slot is still answered, listed and erased, and a new Save
// moves it out of the way.
func TestStoredInSessionSlot(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, open := openTemp(t)
	tc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	legacy := tokencache.Entry{Kind: tokencache.KindStored, Token: "old-secret", Username: "robot"}
	for _, h := range []string{"a.example", "b.example"} {
		if err := tc.Put(h, legacy); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCache(open, WithClock(func() time.Time { return now }))
	ctx := t.Context()
	if u, s, err := c.Get(ctx, "a.example"); err != nil || u != "robot" || s != "old-secret" {
		t.Errorf("Get(legacy) = %q, %q, %v", u, s, err)
	}
	if m, err := c.List(ctx); err != nil || len(m) != 2 || m["a.example"] != "robot" {
		t.Errorf("List() = %v, %v, want both legacy entries", m, err)
	}
	saved, err := c.Save(ctx, Credentials{ServerURL: "a.example", Username: "pt-cccccccccccccccccccc", Secret: "ccpt_new"}, time.Time{})
	if err != nil || saved != (Saved{Host: "a.example", Replaced: "robot"}) {
		t.Errorf("Save() over a legacy entry = %+v, %v, want it replaced and no session", saved, err)
	}
	if _, err := tc.Get("a.example"); !errors.Is(err, tokencache.ErrNotFound) {
		t.Errorf("session slot after Save = %v, want the legacy entry gone", err)
	}
	if u, _, err := c.Get(ctx, "a.example"); err != nil || u != "pt-cccccccccccccccccccc" {
		t.Errorf("Get() after Save = %q, %v, want the new token", u, err)
	}
	if err := c.Erase(ctx, "b.example"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, "b.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get() after erasing a legacy entry = %v, want ErrNotFound", err)
	}
}

func jwtWith(t *testing.T, claims string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

func TestTokenExpiry(t *testing.T) {
	tests := []struct {
		name, secret string
		want         time.Time
	}{
		{name: "session token", secret: jwtWith(t, `{"sub":"dev","exp":1893456000}`), want: time.Unix(1893456000, 0).UTC()},
		{name: "padded", secret: jwtWith(t, `{"exp":1893456000}`) + "\n", want: time.Unix(1893456000, 0).UTC()},
		{name: "no exp", secret: jwtWith(t, `{"sub":"dev"}`)},
		{name: "exp not a number", secret: jwtWith(t, `{"exp":"soon"}`)},
		{name: "pull token", secret: "ccpt_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"},
		{name: "password", secret: "hunter2"},
		{name: "dots but not base64", secret: "a.b!c.d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenExpiry(tt.secret); !got.Equal(tt.want) {
				t.Errorf("TokenExpiry() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStoreSessionTokenExpires: a session token given to `docker login`
// (or `crane auth login`) is stored with its expiry, so status can show
// it and "get" stops handing it out once the registry would refuse it.
func TestStoreSessionTokenExpires(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := now
	_, open := openTemp(t)
	c := NewCache(open, WithClock(func() time.Time { return clock }))
	const host = "localhost:5000"
	exp := now.Add(time.Hour).Truncate(time.Second)
	tok := jwtWith(t, fmt.Sprintf(`{"sub":"dev","exp":%d}`, exp.Unix()))
	if err := c.Store(t.Context(), Credentials{ServerURL: host, Username: "dev", Secret: tok}); err != nil {
		t.Fatal(err)
	}
	tc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	e, err := tc.Stored().Get(host)
	if err != nil || !e.Expiry.Equal(exp) {
		t.Fatalf("stored entry = %v, %v, want expiry %v", e, err, exp)
	}
	if _, s, err := c.Get(t.Context(), host); err != nil || s != tok {
		t.Errorf("get before expiry = %q, %v, want the token", s, err)
	}
	clock = exp.Add(time.Second)
	if _, _, err := c.Get(t.Context(), host); err == nil || !strings.Contains(err.Error(), "have expired") {
		t.Errorf("get after expiry = %v, want an expired error", err)
	}

	// A password has no expiry to find: it is kept without one.
	if err := c.Store(t.Context(), Credentials{ServerURL: "r.example", Username: "u", Secret: "hunter2"}); err != nil {
		t.Fatal(err)
	}
	if e, err := tc.Stored().Get("r.example"); err != nil || !e.Expiry.IsZero() {
		t.Errorf("stored password = %v, %v, want no expiry", e, err)
	}
}
