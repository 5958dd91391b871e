package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serverProbe reads what a registry process has spent: CPU time from
// /proc/<pid>/stat, and, for chainctl, the bytes its HTTP responses
// carried from its /metrics.
type serverProbe struct {
	pid     int
	metrics string // URL of chainctl's /metrics; "" for a registry without it
	// bucketPid is chainctl-s3's bucket server (-s3-server); 0 for none.
	bucketPid int
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// which is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)
// would need cgo).
const clockTick = 10 * time.Millisecond

// parseProcStat returns utime+stime of a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces, so the
// fields are counted from the last ')'.
func parseProcStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 (utime) and 15 (stime)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// metricResponseBytes is chainctl's counter of response body bytes, one
// series per route, method and status.
const metricResponseBytes = "chainctl_http_response_bytes_total"

// parseResponseBytes sums every series of metricResponseBytes in a
// Prometheus text exposition, except the /metrics route's own.
func parseResponseBytes(r io.Reader) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var sum float64
	found := false
	for sc.Scan() {
		line := sc.Text()
		name, _, _ := strings.Cut(line, "{")
		if strings.TrimSpace(name) != metricResponseBytes && !strings.HasPrefix(line, metricResponseBytes+" ") {
			continue
		}
		if strings.Contains(line, `route="metrics"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %w", line, err)
		}
		sum += v
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("metrics: no %s", metricResponseBytes)
	}
	return sum, nil
}

// reading is what a registry had spent at one moment.
type reading struct {
	cpu     time.Duration
	cpuOK   bool
	bytes   float64
	bytesOK bool
	// bucketCPU is the bucket server's CPU time, when it has one.
	bucketCPU time.Duration
	bucketOK  bool
}

// read takes a reading. Figures the probe cannot get are left unset: a
// missing figure leaves its row empty rather than failing the run.
func (p *serverProbe) read(ctx context.Context, hc *http.Client) reading {
	if p == nil {
		return reading{}
	}
	var r reading
	r.cpu, r.cpuOK = processCPU(p.pid)
	if p.bucketPid != 0 {
		r.bucketCPU, r.bucketOK = processCPU(p.bucketPid)
	}
	if p.metrics == "" {
		return r
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics, nil)
	if err != nil {
		return r
	}
	resp, err := hc.Do(req)
	if err != nil {
		return r
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		r.bytes, err = parseResponseBytes(resp.Body)
		r.bytesOK = err == nil
	}
	return r
}
