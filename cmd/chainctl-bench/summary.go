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
	for _, m := range metrics(cfg) {
		if v, ok := o.values[m.id]; ok {
			parts = append(parts, fmt.Sprintf("%s %s %s", m.id, formatValue(v, m.unit), m.unit))
		}
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
