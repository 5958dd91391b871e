package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Request and upload limit setting names.
const (
	KeyBodyIdleTimeout        = "body-idle-timeout"
	KeyBodyMinRate            = "body-min-rate"
	KeyMaxUploadsPerPrincipal = "max-uploads-per-principal"
	KeyMaxUploadsPerRepo      = "max-uploads-per-repository"
)

// Defaults of the limits.
const (
	DefaultBodyIdleTimeout = time.Minute
	// DefaultBodyMinRate is in bytes per second: 1 KiB/s.
	DefaultBodyMinRate = 1024
	// DefaultMaxUploadsPerPrincipal bounds the upload sessions one caller
	// (an identity acting for one upstream subject) has open: a docker
	// push opens a few at a time, a busy CI identity a few dozen.
	DefaultMaxUploadsPerPrincipal = 256
	// DefaultMaxUploadsPerRepo bounds the upload sessions open in one
	// repository, by everyone together.
	DefaultMaxUploadsPerRepo = 1024
)

// Limits bound what one client can hold of the registry.
type Limits struct {
	// BodyIdleTimeout is the longest a request body may send nothing while
	// the registry waits for it; 0 turns it off.
	BodyIdleTimeout time.Duration
	// BodyMinRate is the lowest average rate, in bytes per second, a body
	// may arrive at over each BodyIdleTimeout spent waiting for it; 0
	// turns it off.
	BodyMinRate int64
	// MaxUploadsPerPrincipal and MaxUploadsPerRepo cap open upload
	// sessions; past either, starting one is answered 429. 0: no cap.
	MaxUploadsPerPrincipal int
	MaxUploadsPerRepo      int
}

// addLimitFlags defines the limit settings on fs.
func addLimitFlags(fs *pflag.FlagSet, env func(string) string) {
	fs.Duration(KeyBodyIdleTimeout, DefaultBodyIdleTimeout, "cut a request whose body sends nothing for this long (0: never)"+env(KeyBodyIdleTimeout))
	fs.String(KeyBodyMinRate, "1KiB", "cut a request whose body averages less than this many `bytes` per second over each --body-idle-timeout of waiting, such as 512, 1KiB or 1MiB (0: never)"+env(KeyBodyMinRate))
	fs.Int(KeyMaxUploadsPerPrincipal, DefaultMaxUploadsPerPrincipal, "most upload sessions one caller may have open; more are refused with 429 (0: no cap)"+env(KeyMaxUploadsPerPrincipal))
	fs.Int(KeyMaxUploadsPerRepo, DefaultMaxUploadsPerRepo, "most upload sessions open in one repository; more are refused with 429 (0: no cap)"+env(KeyMaxUploadsPerRepo))
}

// resolveLimits reads and checks the limit settings.
func resolveLimits(get func(string) string) (Limits, error) {
	l := Limits{BodyIdleTimeout: DefaultBodyIdleTimeout, BodyMinRate: DefaultBodyMinRate,
		MaxUploadsPerPrincipal: DefaultMaxUploadsPerPrincipal, MaxUploadsPerRepo: DefaultMaxUploadsPerRepo}
	var errs Errors
	idleOK := true
	if v := get(KeyBodyIdleTimeout); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d < 0:
			errs.add(fmt.Errorf("%s %q: want a duration such as 60s, or 0 for none", KeyBodyIdleTimeout, v))
			idleOK = false
		case d > 0 && d < time.Second:
			errs.add(fmt.Errorf("%s %s: at least 1s, or 0 for none; shorter cuts off honest clients on a busy network", KeyBodyIdleTimeout, d))
			idleOK = false
		default:
			l.BodyIdleTimeout = d
		}
	}
	if v := get(KeyBodyMinRate); v != "" {
		if n, err := ParseBytes(v); err != nil {
			errs.add(fmt.Errorf("%s %q: %w", KeyBodyMinRate, v, err))
		} else {
			l.BodyMinRate = n
		}
	}
	if idleOK && l.BodyMinRate > 0 && l.BodyIdleTimeout == 0 {
		errs.add(fmt.Errorf("%s needs %s: the rate is measured over each idle timeout of waiting; set %s 0 too, or an idle timeout", KeyBodyMinRate, KeyBodyIdleTimeout, KeyBodyMinRate))
	}
	for _, c := range []struct {
		key string
		p   *int
	}{{KeyMaxUploadsPerPrincipal, &l.MaxUploadsPerPrincipal}, {KeyMaxUploadsPerRepo, &l.MaxUploadsPerRepo}} {
		if v := get(c.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				errs.add(fmt.Errorf("%s %q: want a whole number, or 0 for no cap", c.key, v))
				continue
			}
			*c.p = n
		}
	}
	return l, errs.err()
}

// ParseBytes reads a byte count: a whole number, optionally followed by
// B, KB/KiB, MB/MiB or GB/GiB (the decimal and binary forms are both
// 1024-based, as docker's sizes are).
func ParseBytes(s string) (int64, error) {
	num := strings.TrimRight(s, "BbIiKkMmGg")
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a byte count such as 1024, 1KiB or 1MiB")
	}
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q; use B, KiB, MiB or GiB", unit)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}
