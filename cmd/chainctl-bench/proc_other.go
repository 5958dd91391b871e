//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func settle() {}

func cpuTime() (time.Duration, bool) { return 0, false }

func peakRSS(int) (int64, error) { return 0, errors.New("peak rss: needs /proc (linux)") }

func cpuModel() string { return "" }

func processCPU(int) (time.Duration, bool) { return 0, false }
