package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Target names, in the order of the table's columns.
const (
	targetChainctl     = "chainctl"
	targetChainctlS3   = "chainctl-s3" // chainctl on S3 (-s3-server) + PostgreSQL
	targetDistribution = "distribution"
	// targetInMemory is go-containerregistry's in-memory registry (crane
	// registry serve): no disk, no authentication, no durability, so the
	// most this machine's HTTP stack and load client allow.
	targetInMemory = "in-memory"
)

// allTargets lists the target names in the order of the table's columns.
func allTargets() []string {
	return []string{targetChainctl, targetChainctlS3, targetDistribution, targetInMemory}
}

// shortName is how the headers name target: c/d is chainctl /
// Distribution, c/limit chainctl / in-memory.
func shortName(target string) string {
	switch target {
	case targetChainctl:
		return "c"
	case targetChainctlS3:
		return "s3"
	case targetDistribution:
		return "d"
	case targetInMemory:
		return "limit"
	}
	return target
}

// metric is one row of the table.
type metric struct {
	id       string
	workload string // whose client CPU the row shows; "" for none
	label    string
	unit     string
	lower    bool // lower is better
	// target is the ratio the project asks for: chainctl/distribution,
	// or the self ratio on a row that has one; 0 for none.
	target float64
	// self, if set, makes the row compare a registry with itself rather
	// than with Distribution (see selfRatio).
	self *selfRatio
	// limit, if not 0, is a bound the project sets on chainctl's own
	// figure, in the row's unit (a maximum on a "lower" row), rather
	// than on a ratio: the event delivery latency's.
	limit float64
}

// selfRatio is a ratio between two of one target's own figures, each the
// row's own when its id is "": for workloads that only chainctl can run
// (anonymous pulls, pull tokens), the comparison is with another of its
// figures. anon's is get/anon, pull tokens' pull/session.
type selfRatio struct {
	num, den string // metric ids of the numerator and the denominator
	label    string // what the ratio is, e.g. "auth/anon"
}

// of returns the self ratio from values (metric id → figure), taking id's
// figure where num or den is "".
func (s *selfRatio) of(id string, value func(id string) (float64, bool)) (float64, bool) {
	n, nok := value(cmp.Or(s.num, id))
	d, dok := value(cmp.Or(s.den, id))
	if !nok || !dok || d <= 0 {
		return 0, false
	}
	return n / d, true
}

func sizeString(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// metrics lists the table's rows; the labels carry the run's sizes.
func metrics(cfg config) []metric {
	rows := []metric{
		{"mono", "mono", fmt.Sprintf("push %s blob, monolithic", sizeString(cfg.blobSize)), "MiB/s", false, 1, nil, 0},
		{"chunked", "chunked", fmt.Sprintf("push %s blob, %s chunks", sizeString(cfg.blobSize), sizeString(cfg.chunkSize)), "MiB/s", false, 1.5, nil, 0},
		{"small", "small", fmt.Sprintf("push %d images (config + %d × %s), sequential", cfg.images, cfg.layers, sizeString(cfg.layerSize)), "images/s", false, 3, nil, 0},
		{"get", "get", fmt.Sprintf("manifest GET by tag, %d concurrent", cfg.concurrency), "req/s", false, 3, nil, 0},
		{"get-p50", "", "  GET latency p50", "ms", true, 0, nil, 0},
		{"get-p99", "", "  GET latency p99", "ms", true, 0, nil, 0},
		{"ptget", "ptget", fmt.Sprintf("manifest GET by tag, pull token's access token, %d concurrent", cfg.concurrency), "req/s", false, 0,
			&selfRatio{den: "get", label: "ptget/get"}, 0},
		{"anon", "anon", "manifest GET, anonymous (public repo)", "req/s", false, 0.85, &selfRatio{num: "get", label: "auth/anon"}, 0},
		{"head", "head", fmt.Sprintf("manifest HEAD by digest, %d concurrent", cfg.concurrency), "req/s", false, 0, nil, 0},
		{"head-p50", "", "  HEAD latency p50", "ms", true, 0, nil, 0},
		{"head-p99", "", "  HEAD latency p99", "ms", true, 0, nil, 0},
		{"tags", "tags", fmt.Sprintf("tags list of %d tags, %d concurrent", cfg.tags, cfg.tagsConcurrency), "req/s", false, 0, nil, 0},
		{"blob", "blob", fmt.Sprintf("blob GET %s by digest, %d concurrent, whole pulls (following any 307 to the bucket)", sizeString(cfg.blobGetSize), cfg.concurrency), "pulls/s", false, 0, nil, 0},
		{"blob-cpu", "", "  registry CPU per pull", "µs", true, 0, nil, 0},
		{"blob-bucket-cpu", "", fmt.Sprintf("  bucket server (%s) CPU per pull", s3ServerLabel(cfg.s3Server)), "µs", true, 0, nil, 0},
		{"blob-through", "", "  bytes through the registry / bytes delivered", "%", true, 0, nil, 0},
		{"blob-307", "", fmt.Sprintf("blob GET, the registry's 307 answers alone, %d concurrent", cfg.concurrency), "req/s", false, 0, nil, 0},
		{"blob-307-cpu", "", "  registry CPU per 307 answer", "µs", true, 0, nil, 0},
		{"token-session", "token", fmt.Sprintf("/token exchange, session token as Basic password, %d concurrent", cfg.concurrency), "req/s", false, 0, nil, 0},
		{"token-session-cpu", "", "  registry CPU per session-token exchange", "µs", true, 0, nil, 0},
		{"token-pull", "", fmt.Sprintf("/token exchange, pull token as Basic id:secret, same scope, %d concurrent", cfg.concurrency), "req/s", false, 0.8,
			&selfRatio{den: "token-session", label: "pull/session"}, 0},
		{"token-pull-cpu", "", "  registry CPU per pull-token exchange", "µs", true, 0, &selfRatio{den: "token-session-cpu", label: "pull/session"}, 0},
		{"evget-off", "evget", fmt.Sprintf("manifest GET by tag, %d concurrent, no event subscription", cfg.concurrency), "req/s", false, 0, nil, 0},
		{"evget-on", "", fmt.Sprintf("manifest GET by tag, %d concurrent, a subscription to its pulls", cfg.concurrency), "req/s", false, 0.8,
			&selfRatio{den: "evget-off", label: "sub/none"}, 0},
		{"evget-delivered", "", "  pull events delivered to the sink during those GETs", "events/s", false, 0, nil, 0},
		{"evget-backlog", "", "  deliveries pending when they ended (deleted with the subscription)", "events", true, 0, nil, 0},
		{"evget-dropped", "", "  GETs whose pull event was never recorded", "%", true, 0, nil, 0},
		{"evget-delete", "", "  DELETE of the subscription, with that backlog", "ms", true, 0, nil, 0},
		{"evpush-off", "evpush", fmt.Sprintf("push %d images (config + %d × %s), sequential, no event subscription", cfg.images, cfg.layers, sizeString(cfg.layerSize)), "images/s", false, 0, nil, 0},
		{"evpush-on", "", fmt.Sprintf("push %d images, sequential, a subscription to their pushes", cfg.images), "images/s", false, 0.8,
			&selfRatio{den: "evpush-off", label: "sub/none"}, 0},
		{"evpush-backlog", "", "  deliveries pending when the pushes ended", "events", true, 0, nil, 0},
		{"evrate", "evrate", fmt.Sprintf("push events delivered to a local sink: %d manifest pushes, %d at once, until the last is delivered", cfg.events, cfg.eventPushers), "events/s", false, 0, nil, 0},
		{"evrate-push", "", "  those pushes alone", "pushes/s", false, 0, nil, 0},
		{"evrate-p50", "", fmt.Sprintf("  push 201 → delivery at the sink, p50, %d pushes/s", cfg.eventRate), "ms", true, 0, nil, 0},
		{"evrate-p99", "", fmt.Sprintf("  push 201 → delivery at the sink, p99, %d pushes/s", cfg.eventRate), "ms", true, 0, nil, 1000},
	}
	rows = append(rows, evListMetrics(cfg)...)
	return append(rows, metric{"rss", "", "server peak RSS (VmHWM, whole run)", "MiB", true, 0.5, nil, 0})
}

// evListMetrics are workload evlist's rows: each filter's p50 and p99,
// and how long seeding took (setup, not a figure of the registry's).
func evListMetrics(cfg config) []metric {
	var rows []metric
	for i, q := range evListQueries() {
		w := ""
		if i == 0 {
			w = "evlist" // the client CPU is the queries', the store in process on SQLite
		}
		rows = append(rows,
			metric{q.id + "-p50", w, fmt.Sprintf("events list of %d events, %s: first page, p50", cfg.eventLog, q.about), "ms", true, 0, nil, 0},
			metric{q.id + "-p99", "", "  the same, p99", "ms", true, 0, nil, 0})
	}
	return append(rows, metric{"evlist-seed", "", fmt.Sprintf("  seeding those %d events (untimed setup): AppendEvents, %d a batch, then any ANALYZE", cfg.eventLog, evListBatch), "s", true, 0, nil, 0})
}

// report collects what each target measured, over one or more rounds.
type report struct {
	cfg    config
	values map[string]map[string][]float64 // target → metric id → one value per round
	cpu    map[string]map[string][]float64 // target → workload → client cores per round
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, values: map[string]map[string][]float64{}, cpu: map[string]map[string][]float64{}}
}

func (r *report) add(target, workload string, o outcome) {
	if r.values[target] == nil {
		r.values[target] = map[string][]float64{}
		r.cpu[target] = map[string][]float64{}
	}
	for k, v := range o.values {
		r.values[target][k] = append(r.values[target][k], v)
	}
	if o.cpu >= 0 {
		r.cpu[target][workload] = append(r.cpu[target][workload], o.cpu)
	}
}

// median returns the median of vs (the mean of the middle two for an even
// count), and false if vs is empty.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Sorted(slices.Values(vs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
	return s[len(s)/2], true
}

// columns returns the targets the table has a column for, in allTargets'
// order: chainctl and Distribution always, the others when measured.
func (r *report) columns() []string {
	var cols []string
	for _, t := range allTargets() {
		if t == targetChainctl || t == targetDistribution || len(r.values[t]) > 0 {
			cols = append(cols, t)
		}
	}
	return cols
}

// has reports whether the table has a column for target.
func (r *report) has(target string) bool { return slices.Contains(r.columns(), target) }

// ratioHeaders name the table's ratio columns: c/d always, and one more
// for each of chainctl-s3 and in-memory when measured.
func (r *report) ratioHeaders() []string {
	h := []string{"ratio c/d"}
	if r.has(targetChainctlS3) {
		h = append(h, "ratio s3+pg/d")
	}
	if r.has(targetInMemory) {
		h = append(h, "ratio c/limit")
	}
	return h
}

// tableHeader is the table's first row.
func (r *report) tableHeader() []string {
	cols := r.columns()
	h := append([]string{"workload", "unit"}, cols...)
	h = append(h, r.ratioHeaders()...)
	var cpu []string
	for _, t := range cols {
		cpu = append(cpu, shortName(t))
	}
	return append(h, "better", "target", "met", "client CPU "+strings.Join(cpu, " / ")+" (cores)")
}

// rows returns the table's cells, one row per metric that was measured.
func (r *report) rows() [][]string {
	var rows [][]string
	for _, m := range metrics(r.cfg) {
		if row, ok := r.row(m); ok {
			rows = append(rows, row)
		}
	}
	return rows
}

// medians are one row's figures by target, for the targets that have one.
type medians map[string]float64

// ratio returns num's figure over den's, if both have one.
func (v medians) ratio(num, den string) (float64, bool) {
	n, nok := v[num]
	d, dok := v[den]
	if !nok || !dok || d <= 0 {
		return 0, false
	}
	return n / d, true
}

// row returns m's cells, or false if no target measured it. Columns are
// looked up by target name: which of them the table has varies.
func (r *report) row(m metric) ([]string, bool) {
	cols := r.columns()
	vals := medians{}
	for _, t := range cols {
		if v, ok := median(r.values[t][m.id]); ok {
			vals[t] = v
		}
	}
	if len(vals) == 0 {
		return nil, false
	}
	row := []string{m.label, m.unit}
	for _, t := range cols {
		cell := "—"
		if v, ok := vals[t]; ok {
			cell = formatValue(v, m.unit)
		}
		row = append(row, cell)
	}
	ratio, rok := r.ratio(targetChainctl, m, vals)
	row = append(row, ratioCell(m, ratio, rok))
	if r.has(targetChainctlS3) {
		s, sok := r.ratio(targetChainctlS3, m, vals)
		row = append(row, ratioCell(m, s, sok))
	}
	if r.has(targetInMemory) {
		l, lok := limitRatio(m, vals)
		row = append(row, ratioCell(m, l, lok))
	}
	better := "higher"
	if m.lower {
		better = "lower"
	}
	c, cok := vals[targetChainctl]
	target, met := judge(m, ratio, rok, c, cok)
	return append(row, better, target, met, r.cpuCell(m, cols)), true
}

// ratio returns target's ratio on row m: its self ratio on a row that has
// one, else its figure over Distribution's.
func (r *report) ratio(target string, m metric, vals medians) (float64, bool) {
	if m.self != nil {
		return r.selfRatio(target, m)
	}
	return vals.ratio(target, targetDistribution)
}

// limitRatio is row m's ratio c/limit: chainctl's figure over the
// in-memory registry's. A row that compares chainctl with itself has
// none, and neither has RSS: the in-memory registry's is every blob
// pushed to it, no bound on chainctl's.
func limitRatio(m metric, vals medians) (float64, bool) {
	if m.self != nil || m.id == "rss" {
		return 0, false
	}
	return vals.ratio(targetChainctl, targetInMemory)
}

// ratioCell shows a ratio of row m, labelled on a row with a self ratio.
func ratioCell(m metric, ratio float64, ok bool) string {
	switch {
	case !ok:
		return "—"
	case m.self != nil:
		return fmt.Sprintf("%.2f× %s", ratio, m.self.label)
	}
	return fmt.Sprintf("%.2f×", ratio)
}

// judge returns row m's target cell and its "met" cell. A row has a
// target ratio, which chainctl's ratio c/d (or self ratio) is judged
// against, or a limit, which chainctl's own figure c is.
func judge(m metric, ratio float64, rok bool, c float64, cok bool) (target, met string) {
	judged, bound, ok := ratio, m.target, rok
	switch {
	case m.limit > 0:
		judged, bound, ok = c, m.limit, cok
		target = fmt.Sprintf("≥ %g %s", m.limit, m.unit)
		if m.lower {
			target = fmt.Sprintf("≤ %g %s", m.limit, m.unit)
		}
	case m.target > 0:
		target = fmt.Sprintf("≥ %g×", m.target)
		if m.lower {
			target = fmt.Sprintf("≤ %g×", m.target)
		}
	}
	if !ok || bound <= 0 {
		return target, ""
	}
	good := judged >= bound
	if m.lower {
		good = judged <= bound
	}
	if good {
		return target, "✓"
	}
	return target, "✗"
}

// cpuCell is row m's client CPU cell, one figure per column, or "" on a
// row that belongs to no workload of its own.
func (r *report) cpuCell(m metric, cols []string) string {
	if m.workload == "" {
		return ""
	}
	var cells []string
	for _, t := range cols {
		cells = append(cells, formatCPU(r.cpu[t], m.workload))
	}
	return strings.Join(cells, " / ")
}

// selfRatio returns m's self ratio from target's medians.
func (r *report) selfRatio(target string, m metric) (float64, bool) {
	return m.self.of(m.id, func(id string) (float64, bool) { return median(r.values[target][id]) })
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "req/s":
		return fmt.Sprintf("%.0f", v)
	case "ms":
		return fmt.Sprintf("%.2f", v)
	case "events":
		return fmt.Sprintf("%.0f", v)
	case "%":
		return fmt.Sprintf("%.3g", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

func formatCPU(cpu map[string][]float64, workload string) string {
	v, ok := median(cpu[workload])
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}

// note explains the table, below it.
func (r *report) note() string {
	notes := []string{tableNote}
	if r.has(targetChainctlS3) {
		notes = append(notes, s3Note(r.cfg.s3Server))
	}
	if r.has(targetInMemory) {
		notes = append(notes, inMemoryNote)
	}
	if len(notes) > 1 { // another ratio column beside c/d
		notes = append(notes, `The targets and "met" apply to ratio c/d.`)
	}
	return strings.Join(notes, " ")
}

// s3Note explains chainctl-s3's columns, naming the S3 server it ran on.
func s3Note(server string) string {
	return `chainctl-s3 is chainctl on S3 (a local ` + s3ServerLabel(server) + `) + PostgreSQL, ` +
		`answering whole-blob GETs with 307 to presigned bucket URLs unless -chainctl-args says otherwise; ` +
		`ratio s3+pg/d = chainctl on S3+PG / distribution.`
}

// inMemoryNote explains in-memory's columns.
const inMemoryNote = `in-memory is go-containerregistry's in-memory registry (crane registry serve): no disk, no authentication, no durability, ` +
	`so it bounds what chainctl can reach on this machine with this client; ratio c/limit = chainctl / in-memory shows what is left to gain. ` +
	`It holds every blob pushed to it in RAM, so its peak RSS bounds nothing and has no ratio.`

const tableNote = `Each figure is the median over the rounds run. ratio = chainctl / distribution, except where the ratio carries a label: ` +
	`such a row compares a registry with itself, the figure the label names first over the one it names second ` +
	`(auth/anon: its authenticated GET rate / its anonymous GET rate of a public repository; ` +
	`pull/session: the /token exchange with a pull token / the same exchange with a session token; ` +
	`ptget/get: manifest GETs with a pull token's access token / the same GETs with the usual one; ` +
	`sub/none: the same load with an event subscription matching it / without one). Rows marked "lower" (latency, CPU, memory) are better when lower; ` +
	`their target is a maximum. A target in the row's unit rather than a ratio ` +
	`(the event delivery latency's) bounds the chainctl column's figure. Client CPU is the benchmark process's user+system CPU over the timed part ` +
	`divided by its wall time: how many cores the load generator itself used. Peak RSS covers the whole run.`

// writeText prints the table aligned for a terminal.
func (r *report) writeText(w io.Writer) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(r.tableHeader(), "\t"))
	for _, row := range r.rows() {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for line := range strings.Lines(buf.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	b.WriteString("\n" + r.note() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdown prints the table for docs/performance.md.
func (r *report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(r.tableHeader(), " | ") + " |\n")
	b.WriteString("|---|---|" + strings.Repeat("--:|", len(r.columns())+len(r.ratioHeaders())) + "---|---|:-:|--:|\n")
	for _, row := range r.rows() {
		row[0] = strings.TrimSpace(row[0])
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n" + r.note() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
