package cmdutil

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// DebugTransport logs every request made through Base at debug level:
// method, URL without its query or user info, status and duration. It never
// logs headers, bodies or query strings, where tokens, codes and secrets
// travel, so --debug output is safe to paste into a bug report.
type DebugTransport struct {
	Base http.RoundTripper // nil: http.DefaultTransport
	Log  *slog.Logger
}

// RoundTrip implements http.RoundTripper.
func (d *DebugTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := d.Base
	if base == nil {
		base = http.DefaultTransport
	}
	start := time.Now()
	resp, err := base.RoundTrip(r)
	attrs := []any{"method", r.Method, "url", redactURL(r.URL), "duration", time.Since(start).Round(time.Microsecond)}
	if err != nil {
		// A *url.Error's text holds the whole URL, query included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		d.Log.DebugContext(r.Context(), "http request failed", append(attrs, "error", err.Error())...)
		return nil, err
	}
	d.Log.DebugContext(r.Context(), "http request", append(attrs, "status", resp.StatusCode)...)
	return resp, nil
}

// redactURL is u with no user info, query or fragment.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}
