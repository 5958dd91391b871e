package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// summary is the progress line for one workload against one target.
func summary(cfg config, o outcome) string {
	var parts []string
	value := func(id string) (float64, bool) {
		v, ok := o.values[id]
		return v, ok
	}
	for _, m := range metrics(cfg) {
		v, ok := o.values[m.id]
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", m.id, formatValue(v, m.unit), m.unit))
		// A self ratio between two figures of the same workload, such as
		// pull/session, is known already.
		if m.self != nil {
			if r, ok := m.self.of(m.id, value); ok {
				parts = append(parts, fmt.Sprintf("(%.2f× %s)", r, m.self.label))
			}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing measured")
	}
	if o.cpu >= 0 {
		parts = append(parts, fmt.Sprintf("(client CPU %.2f cores)", o.cpu))
	}
	return strings.Join(parts, "  ")
}

// machineLine says when, where and against what the table was measured.
func machineLine(targets []*target, rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s/%s, %d CPUs", time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if m := cpuModel(); m != "" {
		fmt.Fprintf(&b, " (%s)", m)
	}
	fmt.Fprintf(&b, ", loopback, %s, %d round(s)", runtime.Version(), rounds)
	for _, t := range targets {
		v := t.version
		if v == "" {
			v = "version unknown"
		}
		fmt.Fprintf(&b, "; %s %s, %s", t.name, v, authNote(t.authenticated))
	}
	return b.String() + "."
}

func authNote(authenticated bool) string {
	if authenticated {
		return "bearer tokens"
	}
	return "no authentication"
}
