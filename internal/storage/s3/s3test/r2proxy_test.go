package s3test

import (
	"strings"
	"testing"
)

func TestCheckParts(t *testing.T) {
	const m = minPartSize
	tests := []struct {
		name  string
		sizes []int64
		want  string // substring of the complaint; "" for none
	}{
		{"no parts", nil, ""},
		{"one tiny part", []int64{1}, ""},
		{"equal parts", []int64{m, m, m}, ""},
		{"shorter last", []int64{m, m, 1}, ""},
		{"unequal non-trailing", []int64{m + 1, m, 1}, R2Message},
		{"last larger", []int64{m, m + 1}, R2Message},
		{"too small", []int64{m - 1, 1}, "minimum allowed"},
		{"too many", make([]int64, maxParts+1), "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkParts(tt.sizes)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("checkParts(%d parts) = %q, want %q", len(tt.sizes), got, tt.want)
			}
		})
	}
}
