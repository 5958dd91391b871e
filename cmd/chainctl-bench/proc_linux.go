//go:build linux

package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// sysProcAttr makes the kernel kill a server if the benchmark dies without
// stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// settle flushes dirty pages to disk, so that writeback from one
// registry's large pushes does not slow the next measurement, and then,
// when the benchmark may (it runs as root), drops the clean page cache, as
// I/O benchmarks customarily do between runs. Without that, each round's
// 256 MiB pushes grow the page cache into memory the virtual machine has
// not touched before, and on the machines this was measured on, pushes
// slowed two- to three-fold after about 1.5 GiB had been written, whichever
// registry ran: the figures then measured the host, not the registries.
func settle() {
	syscall.Sync()
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0)
}

// cpuTime returns the user+system CPU time this process has used.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// peakRSS returns VmHWM, the peak resident set size of pid since it started.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	defer f.Close()
	return parseVmHWM(f)
}

// cpuModel returns the processor's model name, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	return parseCPUModel(f)
}

// processCPU returns the user+system CPU time process pid has used.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	d, err := parseProcStat(string(b))
	return d, err == nil
}
