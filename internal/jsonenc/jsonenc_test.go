package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/chainctl/chainctl/internal/jsonenc"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\<>&", "\x00\x1f\u2028\u2029", "\xff\xfe", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := jsonenc.AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("jsonenc.AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}
