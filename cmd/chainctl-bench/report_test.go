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
	r.add(targetChainctl, "ptget", outcome{values: map[string]float64{"ptget": 8550}, cpu: 0.5})
	r.add(targetChainctl, "rss", outcome{values: map[string]float64{"rss": 40}, cpu: -1})
	r.add(targetDistribution, "rss", outcome{values: map[string]float64{"rss": 70}, cpu: -1})
	r.add(targetDistribution, "mono", outcome{values: map[string]float64{"mono": 300}, cpu: -1})
	r.add(targetChainctl, "token", outcome{values: map[string]float64{
		"token-session": 10000, "token-session-cpu": 100, "token-pull": 9000, "token-pull-cpu": 120,
	}, cpu: 0.6})
	r.add(targetChainctl, "evget", outcome{values: map[string]float64{
		"evget-off": 10000, "evget-on": 7000, "evget-delivered": 480, "evget-backlog": 95000, "evget-dropped": 0, "evget-delete": 850,
	}, cpu: 0.7})
	r.add(targetChainctl, "evpush", outcome{values: map[string]float64{"evpush-off": 100, "evpush-on": 90, "evpush-backlog": 3}, cpu: 0.1})
	r.add(targetChainctl, "evrate", outcome{values: map[string]float64{"evrate": 520, "evrate-push": 680, "evrate-p50": 95, "evrate-p99": 1200}, cpu: 0.2})
	// Three rounds of small pushes: the median wins, not the outlier.
	for _, v := range [][2]float64{{90, 10}, {10, 10}, {60, 20}} {
		r.add(targetChainctl, "small", outcome{values: map[string]float64{"small": v[0]}, cpu: 0.1})
		r.add(targetDistribution, "small", outcome{values: map[string]float64{"small": v[1]}, cpu: 0.1})
	}

	rows := map[string][]string{}
	var order []string
	for _, row := range r.rows() {
		rows[strings.TrimSpace(row[0])] = row
		order = append(order, strings.TrimSpace(row[0]))
	}
	// The pull-token GET row comes right after get's rows.
	if i := slices.Index(order, "manifest GET by tag, 32 concurrent"); i < 0 || i+3 >= len(order) ||
		order[i+3] != "manifest GET by tag, pull token's access token, 32 concurrent" {
		t.Errorf("rows in order %q, want the pull-token GET after get and its latencies", order)
	}
	tests := []struct {
		label string
		want  []string // ratio, better, target, met, client CPU
	}{
		{"manifest GET by tag, 32 concurrent", []string{"3.00×", "higher", "≥ 3×", "✓", "0.50 / 0.25"}},
		{"GET latency p99", []string{"0.25×", "lower", "", "", ""}},
		// chainctl against itself: authenticated 9000 / anonymous 10000.
		{"manifest GET, anonymous (public repo)", []string{"0.90× auth/anon", "higher", "≥ 0.85×", "✓", "0.75 / —"}},
		// With a pull token's access token, next to get: 8550 / 9000.
		{"manifest GET by tag, pull token's access token, 32 concurrent", []string{"0.95× ptget/get", "higher", "", "", "0.50 / —"}},
		{"server peak RSS (VmHWM, whole run)", []string{"0.57×", "lower", "≤ 0.5×", "✗", ""}},
		{"push 256 MiB blob, monolithic", []string{"—", "higher", "≥ 1×", "", "— / —"}},
		{"push 50 images (config + 3 × 64 KiB), sequential", []string{"6.00×", "higher", "≥ 3×", "✓", "0.10 / 0.10"}},
		// chainctl only, and no self ratio: nothing to compare with.
		{"/token exchange, session token as Basic password, 32 concurrent", []string{"—", "higher", "", "", "0.60 / —"}},
		{"registry CPU per session-token exchange", []string{"—", "lower", "", "", ""}},
		// pull token 9000 / session 10000 req/s; 120 / 100 µs.
		{"/token exchange, pull token as Basic id:secret, same scope, 32 concurrent", []string{"0.90× pull/session", "higher", "≥ 0.8×", "✓", ""}},
		{"registry CPU per pull-token exchange", []string{"1.20× pull/session", "lower", "", "", ""}},
		// Events: with a subscription 7000 / without 10000 req/s misses
		// 0.8×; 90 / 100 images/s meets it.
		{"manifest GET by tag, 32 concurrent, no event subscription", []string{"—", "higher", "", "", "0.70 / —"}},
		{"manifest GET by tag, 32 concurrent, a subscription to its pulls", []string{"0.70× sub/none", "higher", "≥ 0.8×", "✗", ""}},
		{"deliveries pending when they ended (deleted with the subscription)", []string{"—", "lower", "", "", ""}},
		{"push 50 images, sequential, a subscription to their pushes", []string{"0.90× sub/none", "higher", "≥ 0.8×", "✓", ""}},
		// A limit rather than a ratio: chainctl's own 1200 ms is over 1 s.
		{"push 201 → delivery at the sink, p99, 50 pushes/s", []string{"—", "lower", "≤ 1000 ms", "✗", ""}},
		{"push 201 → delivery at the sink, p50, 50 pushes/s", []string{"—", "lower", "", "", ""}},
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
	// Counts of events print whole; a backlog is no fraction.
	if got := rows["deliveries pending when they ended (deleted with the subscription)"][2]; got != "95000" {
		t.Errorf("backlog cell = %q, want 95000", got)
	}
	// The event rows come after the token rows, and before RSS.
	if i, j, k := slices.Index(order, "registry CPU per pull-token exchange"), slices.Index(order, "manifest GET by tag, 32 concurrent, no event subscription"),
		slices.Index(order, "server peak RSS (VmHWM, whole run)"); i < 0 || !(i < j && j < k) {
		t.Errorf("rows in order %q, want the event rows between token's and RSS", order)
	}
	var md bytes.Buffer
	if err := r.writeMarkdown(&md); err != nil || !strings.Contains(md.String(), "| manifest GET by tag, 32 concurrent | req/s | 9000 | 3000 | 3.00× |") {
		t.Errorf("writeMarkdown = %v:\n%s", err, md.String())
	}
	// Without in-memory (or chainctl-s3) the table is the one it always was.
	wantHeader := []string{"workload", "unit", "chainctl", "distribution", "ratio c/d", "better", "target", "met", "client CPU c / d (cores)"}
	if got := r.tableHeader(); !slices.Equal(got, wantHeader) {
		t.Errorf("header = %q, want %q", got, wantHeader)
	}
	if lines := strings.Split(md.String(), "\n"); len(lines) < 2 || lines[1] != "|---|---|--:|--:|--:|---|---|:-:|--:|" {
		t.Errorf("markdown alignment row = %q", lines[1])
	}
	if got := r.note(); got != tableNote {
		t.Errorf("note = %q, want tableNote alone", got)
	}
}

// TestReportInMemory checks in-memory's columns: its figures after
// Distribution's, chainctl / in-memory after the other ratios, and client
// CPU for every column, while "met" still judges ratio c/d.
func TestReportInMemory(t *testing.T) {
	for _, withS3 := range []bool{false, true} {
		r := newReport(defaultConfig())
		r.add(targetChainctl, "get", outcome{values: map[string]float64{"get": 9000, "get-p99": 2}, cpu: 0.5})
		r.add(targetDistribution, "get", outcome{values: map[string]float64{"get": 3000, "get-p99": 8}, cpu: 0.25})
		r.add(targetInMemory, "get", outcome{values: map[string]float64{"get": 18000, "get-p99": 1}, cpu: 0.8})
		r.add(targetChainctl, "small", outcome{values: map[string]float64{"small": 60}, cpu: 0.1})
		r.add(targetDistribution, "small", outcome{values: map[string]float64{"small": 30}, cpu: 0.1})
		r.add(targetInMemory, "small", outcome{values: map[string]float64{"small": 75}, cpu: 0.2})
		r.add(targetInMemory, "mono", outcome{values: map[string]float64{"mono": 900}, cpu: 0.3})
		r.add(targetChainctl, "anon", outcome{values: map[string]float64{"anon": 10000}, cpu: 0.75})
		r.add(targetChainctl, "rss", outcome{values: map[string]float64{"rss": 40}, cpu: -1})
		r.add(targetDistribution, "rss", outcome{values: map[string]float64{"rss": 70}, cpu: -1})
		r.add(targetInMemory, "rss", outcome{values: map[string]float64{"rss": 900}, cpu: -1})
		wantHeader := []string{"workload", "unit", "chainctl", "distribution", "in-memory", "ratio c/d", "ratio c/limit",
			"better", "target", "met", "client CPU c / d / limit (cores)"}
		if withS3 {
			r.add(targetChainctlS3, "get", outcome{values: map[string]float64{"get": 4500}, cpu: 0.5})
			wantHeader = []string{"workload", "unit", "chainctl", "chainctl-s3", "distribution", "in-memory", "ratio c/d", "ratio s3+pg/d", "ratio c/limit",
				"better", "target", "met", "client CPU c / s3 / d / limit (cores)"}
		}
		header := r.tableHeader()
		if !slices.Equal(header, wantHeader) {
			t.Errorf("S3 %v: header = %q, want %q", withS3, header, wantHeader)
		}
		// Cells by column name, whichever columns the table has.
		cells := map[string]map[string]string{}
		for _, row := range r.rows() {
			if len(row) != len(header) {
				t.Fatalf("S3 %v: row %q has %d cells, header %d", withS3, row, len(row), len(header))
			}
			byName := map[string]string{}
			for i, h := range header {
				byName[h] = row[i]
			}
			cells[strings.TrimSpace(row[0])] = byName
		}
		tests := []struct {
			label string
			want  map[string]string
		}{
			// 9000 / 18000: half the limit; "met" judges 3.00× c/d.
			{"manifest GET by tag, 32 concurrent", map[string]string{"in-memory": "18000", "ratio c/d": "3.00×", "ratio c/limit": "0.50×", "met": "✓"}},
			{"GET latency p99", map[string]string{"in-memory": "1.00", "ratio c/d": "0.25×", "ratio c/limit": "2.00×", "met": ""}},
			// 2.00× c/d misses its 3×, though chainctl is at 0.80× the limit.
			{"push 50 images (config + 3 × 64 KiB), sequential", map[string]string{"ratio c/d": "2.00×", "ratio c/limit": "0.80×", "met": "✗"}},
			// in-memory alone: nothing to divide.
			{"push 256 MiB blob, monolithic", map[string]string{"chainctl": "—", "in-memory": "900.0", "ratio c/d": "—", "ratio c/limit": "—"}},
			// A self ratio compares chainctl with itself; no limit for it.
			{"manifest GET, anonymous (public repo)", map[string]string{"in-memory": "—", "ratio c/d": "0.90× auth/anon", "ratio c/limit": "—", "met": "✓"}},
			// RSS: still chainctl / Distribution; in-memory's is its blobs.
			{"server peak RSS (VmHWM, whole run)", map[string]string{"in-memory": "900.0", "ratio c/d": "0.57×", "ratio c/limit": "—", "met": "✗"}},
		}
		for _, tt := range tests {
			row, ok := cells[tt.label]
			if !ok {
				t.Errorf("S3 %v: no row %q", withS3, tt.label)
				continue
			}
			for col, want := range tt.want {
				if got := row[col]; got != want {
					t.Errorf("S3 %v: row %q, %s = %q, want %q", withS3, tt.label, col, got, want)
				}
			}
		}
		wantCPU := "0.50 / 0.25 / 0.80"
		if withS3 {
			wantCPU = "0.50 / 0.50 / 0.25 / 0.80"
		}
		if got := cells["manifest GET by tag, 32 concurrent"][header[len(header)-1]]; got != wantCPU {
			t.Errorf("S3 %v: client CPU = %q, want %q", withS3, got, wantCPU)
		}
		var md bytes.Buffer
		if err := r.writeMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(md.String(), "\n")
		if n := strings.Count(lines[1], "|") - 1; n != len(header) {
			t.Errorf("S3 %v: markdown alignment row %q has %d columns, header %d", withS3, lines[1], n, len(header))
		}
		if note := r.note(); !strings.Contains(note, inMemoryNote) || !strings.HasSuffix(note, `The targets and "met" apply to ratio c/d.`) ||
			strings.Contains(note, s3Note(s3Versitygw)) != withS3 {
			t.Errorf("S3 %v: note = %q", withS3, note)
		}
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
	r.add(targetChainctl, "token", outcome{values: map[string]float64{"token-session": 10000, "token-pull": 9000}, cpu: 0.5})
	r.add(targetChainctlS3, "token", outcome{values: map[string]float64{"token-session": 8000, "token-pull": 5600}, cpu: 0.5})
	r.add(targetChainctl, "evrate", outcome{values: map[string]float64{"evrate-p99": 190}, cpu: 0.2})
	r.add(targetChainctlS3, "evrate", outcome{values: map[string]float64{"evrate-p99": 1500}, cpu: 0.2})
	r.add(targetChainctl, "evget", outcome{values: map[string]float64{"evget-off": 10000, "evget-on": 9000}, cpu: 0.5})
	r.add(targetChainctlS3, "evget", outcome{values: map[string]float64{"evget-off": 2000, "evget-on": 2500}, cpu: 0.5})

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
		// "met" is chainctl's (0.90×); chainctl-s3's 0.70× shows beside it.
		{"/token exchange, pull token as Basic id:secret, same scope, 32 concurrent", []string{"9000", "5600", "—", "0.90× pull/session", "0.70× pull/session", "higher", "≥ 0.8×", "✓"}},
		{"/token exchange, session token as Basic password, 32 concurrent", []string{"10000", "8000", "—", "—", "—", "higher", "", ""}},
		{"manifest GET by tag, 32 concurrent, a subscription to its pulls", []string{"9000", "2500", "—", "0.90× sub/none", "1.25× sub/none", "higher", "≥ 0.8×", "✓"}},
		// The limit judges the chainctl column alone, as targets do.
		{"push 201 → delivery at the sink, p99, 50 pushes/s", []string{"190.00", "1500.00", "—", "—", "—", "lower", "≤ 1000 ms", "✓"}},
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
	wantHeader := []string{"workload", "unit", "chainctl", "chainctl-s3", "distribution", "ratio c/d", "ratio s3+pg/d",
		"better", "target", "met", "client CPU c / s3 / d (cores)"}
	if got := r.tableHeader(); !slices.Equal(got, wantHeader) {
		t.Errorf("header = %q, want %q", got, wantHeader)
	}
	if got, want := r.note(), tableNote+" "+s3Note(s3Versitygw)+` The targets and "met" apply to ratio c/d.`; got != want {
		t.Errorf("note = %q, want %q", got, want)
	}
}

func TestSummary(t *testing.T) {
	cfg := defaultConfig()
	tests := []struct {
		name string
		o    outcome
		want string
	}{
		{
			name: "get",
			o:    outcome{values: map[string]float64{"get": 9000, "get-p50": 1.5, "get-p99": 4}, cpu: 0.5},
			want: "get 9000 req/s  get-p50 1.50 ms  get-p99 4.00 ms  (client CPU 0.50 cores)",
		},
		{
			// Both figures of the self ratio are the workload's own.
			name: "token",
			o: outcome{values: map[string]float64{
				"token-session": 10000, "token-session-cpu": 100, "token-pull": 9000, "token-pull-cpu": 120,
			}, cpu: 0.6},
			want: "token-session 10000 req/s  token-session-cpu 100.0 µs  token-pull 9000 req/s  (0.90× pull/session)  " +
				"token-pull-cpu 120.0 µs  (1.20× pull/session)  (client CPU 0.60 cores)",
		},
		{
			// anon's self ratio needs get, another workload's figure.
			name: "anon",
			o:    outcome{values: map[string]float64{"anon": 10000}, cpu: -1},
			want: "anon 10000 req/s",
		},
		{
			// sub/none is the workload's own, and the counts print whole.
			name: "evget",
			o: outcome{values: map[string]float64{
				"evget-off": 10000, "evget-on": 9000, "evget-delivered": 480.4, "evget-backlog": 95000, "evget-dropped": 0, "evget-delete": 850,
			}, cpu: 0.7},
			want: "evget-off 10000 req/s  evget-on 9000 req/s  (0.90× sub/none)  evget-delivered 480.4 events/s  evget-backlog 95000 events  " +
				"evget-dropped 0 %  evget-delete 850.00 ms  (client CPU 0.70 cores)",
		},
		{name: "nothing", o: outcome{cpu: -1}, want: "nothing measured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(cfg, tt.o); got != tt.want {
				t.Errorf("summary = %q, want %q", got, tt.want)
			}
		})
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

// TestReportS3Server checks that the table names the S3 server chainctl-s3
// ran on (-s3-server), in the bucket server's row and in the note, and
// never the other one.
func TestReportS3Server(t *testing.T) {
	for server, want := range map[string]string{s3Versitygw: "versitygw", s3SeaweedFS: "SeaweedFS"} {
		cfg := defaultConfig()
		cfg.s3Server = server
		r := newReport(cfg)
		r.add(targetChainctl, "blob", outcome{values: map[string]float64{"blob": 900, "blob-cpu": 150}, cpu: 0.5})
		r.add(targetChainctlS3, "blob", outcome{values: map[string]float64{"blob": 600, "blob-cpu": 40, "blob-bucket-cpu": 300}, cpu: 0.5})
		r.add(targetDistribution, "blob", outcome{values: map[string]float64{"blob": 700}, cpu: 0.5})
		var text strings.Builder
		if err := r.writeText(&text); err != nil {
			t.Fatal(err)
		}
		label := "bucket server (" + want + ") CPU per pull"
		var row []string
		for _, rw := range r.rows() {
			if strings.TrimSpace(rw[0]) == label {
				row = rw
			}
		}
		if got := strings.Join(row[1:5], ","); got != "µs,—,300.0,—" {
			t.Errorf("%s: row %q = %q, want µs,—,300.0,—", server, label, got)
		}
		note := "chainctl-s3 is chainctl on S3 (a local " + want + ") + PostgreSQL"
		if !strings.Contains(r.note(), note) || !strings.Contains(text.String(), note) {
			t.Errorf("%s: note = %q, want it to contain %q", server, r.note(), note)
		}
		other := map[string]string{s3Versitygw: "SeaweedFS", s3SeaweedFS: "versitygw"}[server]
		if strings.Contains(text.String(), other) {
			t.Errorf("%s: the table names %s:\n%s", server, other, text.String())
		}
	}
}
