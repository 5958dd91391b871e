package config

import (
	"fmt"
	"time"
)

// DefaultEventRetention is how long the event log keeps events.
const DefaultEventRetention = 7 * 24 * time.Hour

// Events configures the event log. It comes only from the events section
// of the configuration file.
type Events struct {
	// Retention (events.retention) is how long events are kept, so that
	// deliveries can be retried and redelivered; older ones are purged.
	Retention time.Duration
	// BlobPulls (events.blob_pulls) records blob GETs as pull events too:
	// off by default, because clients fetch many blobs per image.
	BlobPulls bool
	// RetryFor (events.retry_for) is how long a delivery is retried.
	RetryFor time.Duration
	// AllowPrivateSinks (events.allow_private_sinks) lets subscriptions
	// post over http:// and to loopback and private addresses.
	AllowPrivateSinks bool
}

// DefaultEventRetryFor is how long a delivery is retried by default.
const DefaultEventRetryFor = 24 * time.Hour

// eventsFile is the events section as written.
type eventsFile struct {
	Retention         string `yaml:"retention"`
	BlobPulls         bool   `yaml:"blob_pulls"`
	RetryFor          string `yaml:"retry_for"`
	AllowPrivateSinks bool   `yaml:"allow_private_sinks"`
}

// resolveEvents fills in the defaults of the events section f (nil if the
// file has none) and validates it.
func resolveEvents(f *eventsFile) (Events, error) {
	e := Events{Retention: DefaultEventRetention, RetryFor: DefaultEventRetryFor}
	if f == nil {
		return e, nil
	}
	e.BlobPulls, e.AllowPrivateSinks = f.BlobPulls, f.AllowPrivateSinks
	var errs Errors
	if f.RetryFor != "" {
		d, err := time.ParseDuration(f.RetryFor)
		if err != nil || d < time.Minute {
			errs.add(fmt.Errorf("events.retry_for %q: want a duration of at least 1m, such as 24h", f.RetryFor))
		} else {
			e.RetryFor = d
		}
	}
	if f.Retention != "" {
		d, err := time.ParseDuration(f.Retention)
		switch {
		case err != nil:
			errs.add(fmt.Errorf("events.retention %q: want a duration such as 24h or 168h", f.Retention))
		case d < time.Hour:
			errs.add(fmt.Errorf("events.retention %q: want at least 1h", f.Retention))
		default:
			e.Retention = d
		}
	}
	return e, errs.err()
}
