package storetest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// testSigningKeys covers PutSigningKey, SigningKeys, RetireSigningKey and
// DeleteSigningKey.
func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.SigningKeys(ctx); err != nil || len(got) != 0 {
		t.Fatalf("SigningKeys() of an empty store = %v, %v, want [], nil", got, err)
	}

	// Sub-second times, to catch backends that truncate; inserted out of
	// order, to check the listing order.
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	keys := []store.SigningKey{
		{ID: "k2", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x02, 0x00, 0xff}, Created: t0.Add(time.Hour)},
		{ID: "k1", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x01, 0x00}, Created: t0},
		// Same creation time as k2: ordered after it by id.
		{ID: "k3", Algorithm: "ES384", PrivateKey: []byte{0x30, 0x03}, KEK: "local:0123", Created: t0.Add(time.Hour), Retired: t0.Add(2 * time.Hour)},
	}
	for _, k := range keys {
		if err := s.PutSigningKey(ctx, k); err != nil {
			t.Fatalf("PutSigningKey(%s) = %v", k.ID, err)
		}
	}
	wantKeys(t, s, keys[1], keys[0], keys[2])

	bad := []struct {
		name string
		key  store.SigningKey
	}{
		{name: "taken id", key: store.SigningKey{ID: "k1", Algorithm: "ES256", PrivateKey: []byte{1}, Created: t0}},
		{name: "no id", key: store.SigningKey{Algorithm: "ES256", PrivateKey: []byte{1}, Created: t0}},
		{name: "no algorithm", key: store.SigningKey{ID: "k9", PrivateKey: []byte{1}, Created: t0}},
		{name: "no private key", key: store.SigningKey{ID: "k9", Algorithm: "ES256", Created: t0}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.PutSigningKey(ctx, tt.key); err == nil {
				t.Errorf("PutSigningKey(%s) = nil, want an error", tt.key)
			}
		})
	}
	wantKeys(t, s, keys[1], keys[0], keys[2]) // unchanged by the failures

	// Retiring sets the time once; again keeps the first.
	retired := t0.Add(3 * time.Hour)
	if err := s.RetireSigningKey(ctx, "k1", retired); err != nil {
		t.Fatalf("RetireSigningKey(k1) = %v", err)
	}
	if err := s.RetireSigningKey(ctx, "k1", retired.Add(time.Hour)); err != nil {
		t.Errorf("RetireSigningKey(k1) again = %v, want nil", err)
	}
	if err := s.RetireSigningKey(ctx, "k3", retired); err != nil {
		t.Errorf("RetireSigningKey(k3), retired before = %v, want nil", err)
	}
	wantNotFound(t, "RetireSigningKey(unknown)", s.RetireSigningKey(ctx, "unknown", retired))
	if err := s.RetireSigningKey(ctx, "k2", time.Time{}); err == nil {
		t.Errorf("RetireSigningKey(k2, zero time) = nil, want an error")
	}
	k1 := keys[1]
	k1.Retired = retired
	wantKeys(t, s, k1, keys[0], keys[2])

	if err := s.DeleteSigningKey(ctx, "k1"); err != nil {
		t.Fatalf("DeleteSigningKey(k1) = %v", err)
	}
	wantNotFound(t, "DeleteSigningKey(k1) twice", s.DeleteSigningKey(ctx, "k1"))
	wantNotFound(t, "RetireSigningKey(k1) after delete", s.RetireSigningKey(ctx, "k1", retired))
	wantKeys(t, s, keys[0], keys[2])

	// Re-wrapping swaps the private key and its KEK only while the key is
	// still under the KEK the caller read it with.
	if err := s.RewrapSigningKey(ctx, "k2", "", "local:aa", []byte{0xee, 0x01}); err != nil {
		t.Fatalf("RewrapSigningKey(k2, clear → local:aa) = %v", err)
	}
	wantNotFound(t, "RewrapSigningKey(k2) from a KEK it is no longer under",
		s.RewrapSigningKey(ctx, "k2", "", "local:bb", []byte{0xee, 0x02}))
	wantNotFound(t, "RewrapSigningKey(unknown)", s.RewrapSigningKey(ctx, "unknown", "", "local:aa", []byte{1}))
	if err := s.RewrapSigningKey(ctx, "k3", "local:0123", "local:aa", nil); err == nil {
		t.Error("RewrapSigningKey(k3, empty private key) = nil, want an error")
	}
	k2 := keys[0]
	k2.PrivateKey, k2.KEK = []byte{0xee, 0x01}, "local:aa"
	wantKeys(t, s, k2, keys[2])

	// A zero creation time means now.
	before := time.Now().Add(-time.Minute)
	if err := s.PutSigningKey(ctx, store.SigningKey{ID: "now", Algorithm: "ES256", PrivateKey: []byte{1}}); err != nil {
		t.Fatalf("PutSigningKey(now) = %v", err)
	}
	got, err := s.SigningKeys(ctx)
	if err != nil || len(got) != 3 || got[2].ID != "now" || got[2].Created.Before(before) || !got[2].Active() {
		t.Errorf("SigningKeys() after PutSigningKey(now) = %v, %v, want an active key \"now\" created about now, last", got, err)
	}
}

// testSigningKeyRedacted checks that printing or logging a key never shows
// its private part.
func testSigningKeyRedacted(t *testing.T, s store.Store) {
	secret := []byte("very-secret-private-key-bytes")
	k := store.SigningKey{ID: "k1", Algorithm: "ES256", PrivateKey: secret, Created: time.Now()}
	if err := s.PutSigningKey(t.Context(), k); err != nil {
		t.Fatalf("PutSigningKey() = %v", err)
	}
	got, err := s.SigningKeys(t.Context())
	if err != nil || len(got) != 1 {
		t.Fatalf("SigningKeys() = %v, %v, want one key", got, err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "key", got[0])
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", got[0])
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		fmt.Fprintf(&logged, verb+"\n", got[0])
	}
	fmt.Fprintf(&logged, "%v %+v\n", []store.SigningKey{got[0]}, &got[0])
	for _, leak := range []string{string(secret), fmt.Sprintf("%x", secret), fmt.Sprint(secret)} {
		if strings.Contains(logged.String(), leak) {
			t.Errorf("a printed or logged signing key shows its private key:\n%s", logged.String())
			break
		}
	}
	if !strings.Contains(logged.String(), "k1") {
		t.Errorf("a printed or logged signing key does not name its id:\n%s", logged.String())
	}
}

// wantKeys fails unless s lists exactly want, in order.
func wantKeys(t *testing.T, s store.Store, want ...store.SigningKey) {
	t.Helper()
	got, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys() = %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("SigningKeys() = %v, want %v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Algorithm != w.Algorithm || !bytes.Equal(g.PrivateKey, w.PrivateKey) || g.KEK != w.KEK ||
			!g.Created.Equal(w.Created) || !g.Retired.Equal(w.Retired) {
			t.Errorf("SigningKeys()[%d] = %v (private key %x), want %v (private key %x)",
				i, g, g.PrivateKey, w, w.PrivateKey)
		}
	}
}
