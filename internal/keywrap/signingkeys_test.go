package keywrap_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/keywrap"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ring(t *testing.T, keys ...[]byte) *keywrap.Keyring {
	t.Helper()
	r, err := keywrap.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rawKeys(t *testing.T, db store.SigningKeys) map[string]store.SigningKey {
	t.Helper()
	keys, err := db.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.SigningKey{}
	for _, k := range keys {
		out[k.ID] = k
	}
	return out
}

// TestSealedKeys: what the issuer puts is sealed in the store, and comes
// back opened; the store alone holds nothing usable.
func TestSealedKeys(t *testing.T) {
	ctx := t.Context()
	db := openStore(t)
	k1 := bytes.Repeat([]byte{1}, keywrap.KeySize)
	sealed := keywrap.SealSigningKeys(db, ring(t, k1))
	secret := []byte("pkcs8 der of k1")
	if err := sealed.PutSigningKey(ctx, store.SigningKey{ID: "kid1", Algorithm: "ES256", PrivateKey: secret, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	raw := rawKeys(t, db)["kid1"]
	if raw.KEK != keywrap.KeyID(k1) || bytes.Contains(raw.PrivateKey, secret) {
		t.Errorf("stored key: KEK %q, private key holds the plaintext: %v", raw.KEK, bytes.Contains(raw.PrivateKey, secret))
	}
	got, err := sealed.SigningKeys(ctx)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].PrivateKey, secret) || got[0].KEK != "" {
		t.Errorf("SigningKeys() = %v, %v; want kid1 opened", got, err)
	}
	if err := sealed.PutSigningKey(ctx, store.SigningKey{ID: "kid2", Algorithm: "ES256", PrivateKey: []byte{1}, KEK: "local:x"}); err == nil {
		t.Error("PutSigningKey of an already sealed key = nil error")
	}

	// A sealed key copied into another row does not open there.
	if err := db.PutSigningKey(ctx, store.SigningKey{ID: "kid9", Algorithm: "ES256", PrivateKey: raw.PrivateKey, KEK: raw.KEK}); err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.SigningKeys(ctx); !errors.Is(err, keywrap.ErrSealed) || !strings.Contains(err.Error(), "kid9") {
		t.Errorf("SigningKeys() with a moved sealed key = %v, want ErrSealed naming kid9", err)
	}
}

// TestSealClearKeys: keys an earlier version stored in the clear are
// sealed in place, and counted so that the caller rotates the active ones.
func TestSealClearKeys(t *testing.T) {
	ctx := t.Context()
	db := openStore(t)
	now := time.Now()
	for _, k := range []store.SigningKey{
		{ID: "active", Algorithm: "ES256", PrivateKey: []byte("clear active"), Created: now.Add(-time.Hour)},
		{ID: "retired", Algorithm: "ES256", PrivateKey: []byte("clear retired"), Created: now.Add(-2 * time.Hour), Retired: now.Add(-time.Hour)},
	} {
		if err := db.PutSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	k1 := bytes.Repeat([]byte{1}, keywrap.KeySize)
	sealed := keywrap.SealSigningKeys(db, ring(t, k1))
	res, err := sealed.Seal(ctx)
	if err != nil || res != (keywrap.SealResult{Clear: 2, ClearActive: 1}) {
		t.Fatalf("Seal() = %+v, %v; want 2 sealed, 1 of them active", res, err)
	}
	for id, k := range rawKeys(t, db) {
		if k.KEK != keywrap.KeyID(k1) || bytes.Contains(k.PrivateKey, []byte("clear")) {
			t.Errorf("%s after Seal: KEK %q, private key %q", id, k.KEK, k.PrivateKey)
		}
	}
	got, err := sealed.SigningKeys(ctx)
	if err != nil || len(got) != 2 || string(got[1].PrivateKey) != "clear active" {
		t.Errorf("SigningKeys() after Seal = %v, %v", got, err)
	}
	if res, err := sealed.Seal(ctx); err != nil || res != (keywrap.SealResult{}) {
		t.Errorf("Seal() again = %+v, %v; want nothing to do", res, err)
	}
}

// TestKEKRotation walks the documented rotation: the new key added after
// the old one, then moved first (keys re-sealed under it), then the old
// one removed. A keyring without the key a row names is refused with
// what to do, not skipped.
func TestKEKRotation(t *testing.T) {
	ctx := t.Context()
	db := openStore(t)
	old := bytes.Repeat([]byte{1}, keywrap.KeySize)
	next := bytes.Repeat([]byte{2}, keywrap.KeySize)
	if err := keywrap.SealSigningKeys(db, ring(t, old)).PutSigningKey(ctx,
		store.SigningKey{ID: "kid1", Algorithm: "ES256", PrivateKey: []byte("secret"), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Step 1: the new key known, the old one still sealing: nothing moves.
	if res, err := keywrap.SealSigningKeys(db, ring(t, old, next)).Seal(ctx); err != nil || res != (keywrap.SealResult{}) {
		t.Errorf("step 1 Seal() = %+v, %v; want nothing re-sealed", res, err)
	}
	// Removing the old key too early is refused, naming the missing KEK.
	_, err := keywrap.SealSigningKeys(db, ring(t, next)).SigningKeys(ctx)
	if err == nil || !strings.Contains(err.Error(), keywrap.KeyID(old)) || !strings.Contains(err.Error(), "not in the configured keyring") {
		t.Errorf("SigningKeys() without the sealing KEK = %v, want a refusal naming %s", err, keywrap.KeyID(old))
	}
	// Step 2: the new key first: keys are re-sealed under it.
	if res, err := keywrap.SealSigningKeys(db, ring(t, next, old)).Seal(ctx); err != nil || res != (keywrap.SealResult{Resealed: 1}) {
		t.Errorf("step 2 Seal() = %+v, %v; want 1 re-sealed", res, err)
	}
	if k := rawKeys(t, db)["kid1"]; k.KEK != keywrap.KeyID(next) {
		t.Errorf("after step 2 kid1 is under %s, want %s", k.KEK, keywrap.KeyID(next))
	}
	// Step 3: the old key gone.
	got, err := keywrap.SealSigningKeys(db, ring(t, next)).SigningKeys(ctx)
	if err != nil || len(got) != 1 || string(got[0].PrivateKey) != "secret" {
		t.Errorf("step 3 SigningKeys() = %v, %v", got, err)
	}
}
