package registry

import (
	"encoding/json"
	"testing"
)

// TestAppendStringArray holds the lists' hand-written encoder to
// encoding/json's output, byte for byte, the HTML escapes included.
func TestAppendStringArray(t *testing.T) {
	for _, list := range [][]string{
		{},
		{"latest"},
		{"1", "v1.0", "v1-0", "_x", "Latest"},
		{`a"b`, `c\d`, "<&>", "é", "\u2028", "\x01"},
	} {
		want, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendStringArray([]byte("x"), list); string(got) != "x"+string(want) {
			t.Errorf("appendStringArray(%q) = %s, want %s", list, got[1:], want)
		}
	}
}
