package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/keywrap"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// kekFile writes a keyring of one new key-encryption key, mode 0600, and
// returns its path.
func kekFile(t *testing.T) string {
	t.Helper()
	key, err := keywrap.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(p, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tokenKid is the kid in a JWT's header.
func tokenKid(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil || h.Kid == "" {
		t.Fatalf("token header %q: %v", head, err)
	}
	return h.Kid
}

// jwksKids are the key ids srv publishes.
func jwksKids(t *testing.T, srv *server) map[string]bool {
	t.Helper()
	resp, err := http.Get(srv.URL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.KeyID] = true
	}
	return kids
}

// thumbprintKid is the kid the issuer gives a private key: its public JWK
// thumbprint.
func thumbprintKid(t *testing.T, der []byte) string {
	t.Helper()
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("opened signing key is not PKCS #8: %v", err)
	}
	tp, err := (&jose.JSONWebKey{Key: priv.(*ecdsa.PrivateKey).Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// databaseFiles is what a copy of a SQLite registry database holds: the
// file and its write-ahead log.
func databaseFiles(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// serveFails runs `chainctl registry serve` with args, which must exit
// with an error within 30 s, and returns what it printed.
func serveFails(t *testing.T, env []string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chainctlBin, append([]string{"registry", "serve", "--listen", freeAddr(t)}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("registry serve %v: %v (want it to refuse to start); output:\n%s", args, err, out)
	}
	return string(out)
}

// TestSigningKeysSealedAtRest (issue 10, finding 8): the registry's first
// start makes a key-encryption key file apart from the database and seals
// the signing key with it; the database files hold no private key, and a
// copy of the database alone does not start a registry that signs.
func TestSigningKeysSealedAtRest(t *testing.T) {
	srv := startServer(t)
	kid := tokenKid(t, accessToken(t, srv, "repository:team/app:pull"))

	kekPath := filepath.Join(srv.DataDir, config.DefaultKEKFileName)
	fi, err := os.Stat(kekPath)
	if err != nil {
		t.Fatalf("no key-encryption key file in the data directory: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", kekPath, fi.Mode().Perm())
	}
	if !strings.Contains(srv.out.String(), "created a key-encryption key") {
		t.Errorf("the first start did not say it created a key-encryption key; output:\n%s", srv.out)
	}
	ring, err := keywrap.LoadFile(kekPath)
	if err != nil {
		t.Fatal(err)
	}

	dbPath := filepath.Join(srv.DataDir, "registry.db")
	db, err := sqlite.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := db.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	opened, err := keywrap.SealSigningKeys(db, ring).SigningKeys(t.Context())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || len(opened) != 1 {
		t.Fatalf("stored signing keys: %v, want one", raw)
	}
	if raw[0].KEK != ring.Current() {
		t.Errorf("signing key sealed under %q, want the data directory's key %s", raw[0].KEK, ring.Current())
	}
	if _, err := x509.ParsePKCS8PrivateKey(raw[0].PrivateKey); err == nil {
		t.Error("the database holds the signing key in the clear")
	}
	// The sealed key is the one that signs: the KEK file and the database
	// together are what an operator must protect.
	if got := thumbprintKid(t, opened[0].PrivateKey); got != kid || raw[0].ID != kid {
		t.Errorf("opened key %s (row %s), want the token's kid %s", got, raw[0].ID, kid)
	}
	if bytes.Contains(databaseFiles(t, dbPath), opened[0].PrivateKey) {
		t.Error("the database files contain the private key's DER")
	}

	// A dump of the database alone: a registry started on a copy of the
	// database files, without the key file, refuses to start and says why.
	dump := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(dbPath + suffix)
		if err == nil {
			err = os.WriteFile(filepath.Join(dump, "registry.db"+suffix), b, 0o600)
		}
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	out := serveFails(t, nil, "--data-dir", dump)
	if !strings.Contains(out, "sealed under key-encryption key "+ring.Current()) || !strings.Contains(out, "restore it") {
		t.Errorf("serve on a dump of the database: want a refusal naming %s; output:\n%s", ring.Current(), out)
	}
	if _, err := os.Stat(filepath.Join(dump, config.DefaultKEKFileName)); err == nil {
		t.Error("serve on a dump of the database created a key-encryption key that opens nothing")
	}
	// Nor with a key of its own.
	out = serveFails(t, []string{"CHAINCTL_KEY_ENCRYPTION_KEY=" + strings.TrimSpace(mustKey(t))}, "--data-dir", dump)
	if !strings.Contains(out, "not in the configured keyring") {
		t.Errorf("serve on a dump with another key: want a refusal; output:\n%s", out)
	}
}

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := keywrap.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestClearSigningKeysSealedOnUpgrade: a database whose signing key an
// earlier version stored in the clear gets it sealed at the next start,
// and rotated out, since any old copy of the database holds it; tokens it
// signed keep verifying meanwhile. No file keeps the clear key.
func TestClearSigningKeysSealedOnUpgrade(t *testing.T) {
	dataDir := t.TempDir()
	dbPath := filepath.Join(dataDir, "registry.db")
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	oldKid := thumbprintKid(t, der)
	db, err := sqlite.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	err = db.PutSigningKey(t.Context(), store.SigningKey{ID: oldKid, Algorithm: "ES256", PrivateKey: der, Created: time.Now().Add(-time.Hour)})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(databaseFiles(t, dbPath), der) {
		t.Fatal("the seeded clear key is not in the database files: the check below would prove nothing")
	}

	srv := startServer(t, "--data-dir", dataDir)
	newKid := tokenKid(t, accessToken(t, srv, "repository:team/app:pull"))
	if newKid == oldKid {
		t.Error("the key stored in the clear still signs")
	}
	if kids := jwksKids(t, srv); !kids[oldKid] || !kids[newKid] {
		t.Errorf("JWKS kids %v, want the retired %s (its tokens still verify) and the new %s", kids, oldKid, newKid)
	}
	db, err = sqlite.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := db.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range raw {
		if k.KEK == "" {
			t.Errorf("%v is still in the clear", k)
		}
		if k.ID == oldKid && k.Active() {
			t.Errorf("the key that was in the clear is still active")
		}
	}
	if bytes.Contains(databaseFiles(t, dbPath), der) {
		t.Error("the database files still contain the clear key's DER")
	}
}

// TestPostgresNeedsAKEK: replicas on PostgreSQL must share a key-encryption
// key, so none is made up for them.
func TestPostgresNeedsAKEK(t *testing.T) {
	out := serveFails(t, nil, "--database", pgtest.Schema(t))
	if !strings.Contains(out, "key-encryption-key-file") || !strings.Contains(out, "CHAINCTL_KEY_ENCRYPTION_KEY") {
		t.Errorf("serve on PostgreSQL without a key-encryption key: want what to set; output:\n%s", out)
	}
	// A keyring file others can read is refused too.
	loose := kekFile(t)
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	out = serveFails(t, nil, "--database", pgtest.Schema(t), "--key-encryption-key-file", loose)
	if !strings.Contains(out, "chmod 600") {
		t.Errorf("serve with a 0644 keyring file: want a refusal with chmod 600; output:\n%s", out)
	}
}
