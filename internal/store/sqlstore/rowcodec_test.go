package sqlstore

import (
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestDigests(t *testing.T) {
	for _, ds := range [][]digest.Digest{nil, {digest.FromString("a")}, {digest.FromString("a"), digest.FromString("b")}} {
		s, err := encodeDigests(ds)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeDigests(s); !reflect.DeepEqual(got, ds) {
			t.Errorf("round trip of %v = %v", ds, got)
		}
	}
	for _, bad := range []digest.Digest{"", "sha256:a\nsha256:b"} {
		if _, err := encodeDigests([]digest.Digest{bad}); err == nil {
			t.Errorf("encodeDigests(%q) = nil error", bad)
		}
	}
}

func TestJSON(t *testing.T) {
	if s, err := encodeJSON(map[string]string{}, 0); err != nil || s != "" {
		t.Errorf("empty map = %q, %v; want \"\"", s, err)
	}
	in := map[string]string{"org.opencontainers.image.title": "x"}
	s, err := encodeJSON(in, len(in))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := decodeJSON(s, &out); err != nil || !reflect.DeepEqual(out, in) {
		t.Errorf("round trip = %v, %v", out, err)
	}
	var none map[string]string
	if err := decodeJSON("", &none); err != nil || none != nil {
		t.Errorf("decodeJSON(\"\") = %v, %v; want nil map", none, err)
	}
}
