package rowcodec

import (
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestDigests(t *testing.T) {
	for _, ds := range [][]digest.Digest{nil, {digest.FromString("a")}, {digest.FromString("a"), digest.FromString("b")}} {
		s, err := EncodeDigests(ds)
		if err != nil {
			t.Fatal(err)
		}
		if got := DecodeDigests(s); !reflect.DeepEqual(got, ds) {
			t.Errorf("round trip of %v = %v", ds, got)
		}
	}
	for _, bad := range []digest.Digest{"", "sha256:a\nsha256:b"} {
		if _, err := EncodeDigests([]digest.Digest{bad}); err == nil {
			t.Errorf("EncodeDigests(%q) = nil error", bad)
		}
	}
}

func TestJSON(t *testing.T) {
	if s, err := EncodeJSON(map[string]string{}, 0); err != nil || s != "" {
		t.Errorf("empty map = %q, %v; want \"\"", s, err)
	}
	in := map[string]string{"org.opencontainers.image.title": "x"}
	s, err := EncodeJSON(in, len(in))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := DecodeJSON(s, &out); err != nil || !reflect.DeepEqual(out, in) {
		t.Errorf("round trip = %v, %v", out, err)
	}
	var none map[string]string
	if err := DecodeJSON("", &none); err != nil || none != nil {
		t.Errorf("DecodeJSON(\"\") = %v, %v; want nil map", none, err)
	}
}
