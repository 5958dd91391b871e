package keywrap

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func newKey(t *testing.T) (raw []byte, line string) {
	t.Helper()
	line, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, err = base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil || len(raw) != KeySize {
		t.Fatalf("GenerateKey() = %q: %v, %d bytes", line, err, len(raw))
	}
	return raw, line
}

func TestWrapUnwrap(t *testing.T) {
	ctx := t.Context()
	k1, _ := newKey(t)
	k2, _ := newKey(t)
	ring, err := NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	secret, aad := []byte("pkcs8 private key bytes"), []byte("row k1")
	kek, sealed, err := ring.Wrap(ctx, secret, aad)
	if err != nil || kek != KeyID(k1) || !strings.HasPrefix(kek, "local:") {
		t.Fatalf("Wrap() = %q, %v; want KEK %s", kek, err, KeyID(k1))
	}
	if bytes.Contains(sealed, secret) {
		t.Error("sealed bytes contain the plaintext")
	}
	if got, err := ring.Unwrap(ctx, kek, sealed, aad); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("Unwrap() = %q, %v", got, err)
	}
	_, again, _ := ring.Wrap(ctx, secret, aad)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		kek         string
		sealed, aad []byte
		want        error
	}{
		"altered":        {kek, flipped, aad, ErrSealed},
		"truncated":      {kek, sealed[:10], aad, ErrSealed},
		"moved rows":     {kek, sealed, []byte("row k2"), ErrSealed},
		"unknown KEK":    {KeyID(k2), sealed, aad, ErrUnknownKEK},
		"another format": {kek, append([]byte{9}, sealed[1:]...), aad, ErrSealed},
	} {
		if _, err := ring.Unwrap(ctx, tc.kek, tc.sealed, tc.aad); !errors.Is(err, tc.want) {
			t.Errorf("%s: Unwrap() = %v, want %v", name, err, tc.want)
		}
	}

	// Rotation: a keyring with k2 first seals under k2 and still opens
	// what k1 sealed.
	rotated, err := NewKeyring(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Current() != KeyID(k2) || len(rotated.IDs()) != 2 {
		t.Errorf("Current() = %s, IDs() = %v; want %s first of two", rotated.Current(), rotated.IDs(), KeyID(k2))
	}
	if got, err := rotated.Unwrap(ctx, kek, sealed, aad); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("rotated Unwrap() of the old seal = %q, %v", got, err)
	}
}

func TestParseKeyring(t *testing.T) {
	k1, line1 := newKey(t)
	k2, _ := newKey(t)
	urlForm := base64.RawURLEncoding.EncodeToString(k2)
	ring, err := ParseKeyring([]byte("# current\n" + line1 + "\n\n  " + urlForm + "  \n"))
	if err != nil {
		t.Fatal(err)
	}
	if ring.Current() != KeyID(k1) || len(ring.IDs()) != 2 {
		t.Errorf("ParseKeyring: current %s, ids %v", ring.Current(), ring.IDs())
	}
	if ring, err := ParseKeyring([]byte(urlForm + "," + strings.TrimSpace(line1))); err != nil || ring.Current() != KeyID(k2) {
		t.Errorf("comma-separated keyring: %v", err)
	}

	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	for name, text := range map[string]string{
		"empty":         "",
		"comments only": "# nothing\n\n",
		"short key":     short,
		"not base64":    "this-is-not*base64!!",
		"repeated key":  line1 + line1,
	} {
		_, err := ParseKeyring([]byte(text))
		if err == nil {
			t.Errorf("%s: ParseKeyring() = nil error", name)
			continue
		}
		if text != "" && strings.Contains(err.Error(), strings.TrimSpace(strings.Split(text, "\n")[0])) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "kek")
	ring, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateFile(missing) = %v, created %v", err, created)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("created keyring mode %04o, want 0600", fi.Mode().Perm())
	}
	again, created, err := LoadOrCreateFile(path)
	if err != nil || created || again.Current() != ring.Current() {
		t.Errorf("LoadOrCreateFile(existing) = %v, created %v, KEK %s; want the same key %s", err, created, again.Current(), ring.Current())
	}

	if runtime.GOOS != "windows" {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("LoadFile(0644) = %v, want a refusal naming chmod 600", err)
		}
	}
	if _, err := LoadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadFile(missing) = nil error")
	}
}
