package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	r := newReport(defaultConfig())
	r.add(targetChainctl, "get", outcome{values: map[string]float64{"get": 9000, "get-p50": 1, "get-p99": 2}, cpu: 0.5})
	r.add(targetDistribution, "get", outcome{values: map[string]float64{"get": 3000, "get-p50": 2, "get-p99": 8}, cpu: 0.25})
	r.add(targetChainctl, "anon", outcome{values: map[string]float64{"anon": 10000}, cpu: 0.75})
	r.add(targetChainctl, "rss", outcome{values: map[string]float64{"rss": 40}, cpu: -1})
	r.add(targetDistribution, "rss", outcome{values: map[string]float64{"rss": 70}, cpu: -1})
	r.add(targetDistribution, "mono", outcome{values: map[string]float64{"mono": 300}, cpu: -1})
	// Three rounds of small pushes: the median wins, not the outlier.
	for _, v := range [][2]float64{{90, 10}, {10, 10}, {60, 20}} {
		r.add(targetChainctl, "small", outcome{values: map[string]float64{"small": v[0]}, cpu: 0.1})
		r.add(targetDistribution, "small", outcome{values: map[string]float64{"small": v[1]}, cpu: 0.1})
	}

	rows := map[string][]string{}
	for _, row := range r.rows() {
		rows[strings.TrimSpace(row[0])] = row
	}
	tests := []struct {
		label string
		want  []string // ratio, better, target, met, client CPU
	}{
		{"manifest GET by tag, 32 concurrent", []string{"3.00×", "higher", "≥ 3×", "✓", "0.50 / 0.25"}},
		{"GET latency p99", []string{"0.25×", "lower", "", "", ""}},
		// chainctl against itself: authenticated 9000 / anonymous 10000.
		{"manifest GET, anonymous (public repo)", []string{"0.90× auth/anon", "higher", "≥ 0.85×", "✓", "0.75 / —"}},
		{"server peak RSS (VmHWM, whole run)", []string{"0.57×", "lower", "≤ 0.5×", "✗", ""}},
		{"push 256 MiB blob, monolithic", []string{"—", "higher", "≥ 1×", "", "— / —"}},
		{"push 50 images (config + 3 × 64 KiB), sequential", []string{"6.00×", "higher", "≥ 3×", "✓", "0.10 / 0.10"}},
	}
	for _, tt := range tests {
		row, ok := rows[tt.label]
		if !ok {
			t.Errorf("no row %q in %v", tt.label, rows)
			continue
		}
		if got := row[4:]; !slices.Equal(got, tt.want) {
			t.Errorf("row %q = %q, want %q", tt.label, got, tt.want)
		}
	}
	if _, ok := rows["tags list of 1000 tags, 8 concurrent"]; ok {
		t.Error("a row for an unmeasured workload")
	}
	var md bytes.Buffer
	if err := r.writeMarkdown(&md); err != nil || !strings.Contains(md.String(), "| manifest GET by tag, 32 concurrent | req/s | 9000 | 3000 | 3.00× |") {
		t.Errorf("writeMarkdown = %v:\n%s", err, md.String())
	}
}

// TestReportSelfRatioS3 checks chainctl-s3's ratio column: against
// Distribution on a row that compares the two, and against its own
// figures on a row with a self ratio.
func TestReportSelfRatioS3(t *testing.T) {
	r := newReport(defaultConfig())
	r.add(targetChainctl, "get", outcome{values: map[string]float64{"get": 9000}, cpu: 0.5})
	r.add(targetChainctlS3, "get", outcome{values: map[string]float64{"get": 4500}, cpu: 0.5})
	r.add(targetDistribution, "get", outcome{values: map[string]float64{"get": 3000}, cpu: 0.25})
	r.add(targetChainctl, "anon", outcome{values: map[string]float64{"anon": 10000}, cpu: 0.75})
	r.add(targetChainctlS3, "anon", outcome{values: map[string]float64{"anon": 5000}, cpu: 0.75})

	rows := map[string][]string{}
	for _, row := range r.rows() {
		rows[strings.TrimSpace(row[0])] = row
	}
	tests := []struct {
		label string
		want  []string // chainctl, chainctl-s3, distribution, ratio c/d, ratio s3+pg/d, better, target, met
	}{
		{"manifest GET by tag, 32 concurrent", []string{"9000", "4500", "3000", "3.00×", "1.50×", "higher", "≥ 3×", "✓"}},
		{"manifest GET, anonymous (public repo)", []string{"10000", "5000", "—", "0.90× auth/anon", "0.90× auth/anon", "higher", "≥ 0.85×", "✓"}},
	}
	for _, tt := range tests {
		row, ok := rows[tt.label]
		if !ok {
			t.Errorf("no row %q in %v", tt.label, rows)
			continue
		}
		if got := row[2:10]; !slices.Equal(got, tt.want) {
			t.Errorf("row %q = %q, want %q", tt.label, got, tt.want)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		wantErr  bool
	}{
		{name: "kernel format", in: "Name:\tregistry\nVmPeak:\t 1 kB\nVmHWM:\t   71234 kB\nVmRSS:\t 5 kB\n", want: 71234 << 10},
		{name: "missing", in: "Name:\tx\n", wantErr: true},
		{name: "odd unit", in: "VmHWM: 5 MB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmHWM(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseVmHWM = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
