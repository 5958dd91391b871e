package pulltoken

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
)

func TestSecretFormat(t *testing.T) {
	// 256 bits fit the body: 62^43 > 2^256.
	if new(big.Int).Exp(big.NewInt(62), big.NewInt(bodyLen), nil).Cmp(new(big.Int).Lsh(big.NewInt(1), 256)) <= 0 {
		t.Fatalf("62^%d does not hold 256 bits", bodyLen)
	}
	seen := map[Secret]bool{}
	for range 200 {
		s := NewSecret()
		if len(s) != SecretLen || !strings.HasPrefix(string(s), Prefix) || !Valid(string(s)) {
			t.Fatalf("NewSecret() = %d characters, valid %v", len(s), Valid(string(s)))
		}
		if seen[s] {
			t.Fatal("NewSecret() repeated a secret")
		}
		seen[s] = true
	}
}

func TestValid(t *testing.T) {
	s := string(NewSecret())
	// Every single-character change of the body or checksum is caught.
	caught, changes := 0, 0
	for i := len(Prefix); i < len(s); i++ {
		c := byte('a')
		if s[i] == 'a' {
			c = 'b'
		}
		changes++
		if !Valid(s[:i] + string(c) + s[i+1:]) {
			caught++
		}
	}
	if caught != changes {
		t.Errorf("the checksum caught %d of %d single-character changes", caught, changes)
	}
	for name, bad := range map[string]string{
		"empty":          "",
		"other prefix":   "ghp_" + s[len(Prefix):],
		"no prefix":      s[len(Prefix):],
		"short":          s[:len(s)-1],
		"long":           s + "0",
		"not base62":     s[:10] + "-" + s[11:],
		"random text":    strings.Repeat("x", SecretLen),
		"prefix, zeroes": Prefix + strings.Repeat("0", bodyLen+checksumLen-1) + "1",
	} {
		if Valid(bad) {
			t.Errorf("%s: Valid(%q) = true", name, bad)
		}
	}
}

func TestID(t *testing.T) {
	id := NewID()
	if !ValidID(id) || len(id) != len(IDPrefix)+idLen || NewID() == id {
		t.Errorf("NewID() = %q (valid %v)", id, ValidID(id))
	}
	for _, bad := range []string{"", "pt-", id + "a", strings.ToUpper(id), "xx-" + id[3:], IDPrefix + strings.Repeat("1", idLen)} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	id, s := NewID(), NewSecret()
	h := Hash(id, s)
	if bytes.Contains(h, []byte(s)) || len(h) != 32 {
		t.Fatalf("Hash = %x", h)
	}
	if !Verify(id, s, h) {
		t.Error("Verify(the token's own id and secret) = false")
	}
	if Verify(id, NewSecret(), h) {
		t.Error("Verify(another secret) = true")
	}
	if Verify(NewID(), s, h) {
		t.Error("Verify(the secret under another id) = true: a stored hash could move to another token")
	}
	if Verify(id, s, h[:16]) || Verify(id, s, nil) {
		t.Error("Verify(a truncated hash) = true")
	}
}

func TestSecretRedacted(t *testing.T) {
	s := NewSecret()
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %s %+v %#v %q\n", s, s, s, s, s)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("token", "secret", s)
	slog.New(slog.NewTextHandler(&out, nil)).Info("token", "secret", s)
	if strings.Contains(out.String(), string(s)[len(Prefix):len(Prefix)+10]) {
		t.Errorf("a printed or logged secret shows it:\n%s", out.String())
	}
	if !strings.Contains(out.String(), Prefix) {
		t.Errorf("a printed secret does not say what it is:\n%s", out.String())
	}
}
