package config

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds the configuration file; a real one is a few hundred bytes.
const maxFileSize = 1 << 20

// readFile reads a YAML configuration file whose top level may hold only the
// given keys: a misspelt key is an error, not a silently ignored setting.
// Scalar values are returned as strings.
func readFile(path string, known []string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration file: %w", err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("configuration file %s: larger than %d bytes", path, maxFileSize)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		// A top level that is a list or a scalar fails to decode into a map.
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if !slices.Contains(known, k) {
			msg := fmt.Sprintf("configuration file %s: unknown key %q", path, k)
			if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, fmt.Errorf("%s; known keys: %s", msg, strings.Join(known, ", "))
		}
		switch v := v.(type) {
		case nil:
			// "key:" with no value leaves the setting at its default.
		case string, bool, int, int64, uint64, float64:
			out[k] = fmt.Sprint(v)
		default:
			return nil, fmt.Errorf("configuration file %s: key %q: want a single value, got %T", path, k, v)
		}
	}
	return out, nil
}

// suggest returns the known key closest to k, if it is close enough to be a
// typo (edit distance at most 2).
func suggest(k string, known []string) string {
	best, bestDist := "", 3
	for _, c := range known {
		if d := editDistance(strings.ToLower(k), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
