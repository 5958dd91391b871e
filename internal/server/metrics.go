package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/metrics"
)

// Route labels for requests outside /v2/.
const (
	routeHealthz = "healthz"
	routeReadyz  = "readyz"
	routeMetrics = "metrics"
	routeOther   = "other"
)

// serverMetrics live on a registry of their own, so that two servers in
// one process (tests) do not share counts.
type serverMetrics struct {
	requests      *metrics.CounterVec
	duration      *metrics.HistogramVec
	requestBytes  *metrics.CounterVec
	responseBytes *metrics.CounterVec
	inFlight      *metrics.Gauge
	handler       http.Handler
}

func newMetrics(reg *metrics.Registry, start time.Time) *serverMetrics {
	m := &serverMetrics{
		requests: reg.NewCounterVec("chainctl_http_requests_total",
			"HTTP requests served, by route, method and status code.", "route", "method", "status"),
		// Manifest and tag requests take milliseconds; blob transfers can
		// take minutes.
		duration: reg.NewHistogramVec("chainctl_http_request_duration_seconds",
			"Time from receiving a request to finishing its response, by route and method.",
			[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}, "route", "method"),
		requestBytes:  reg.NewCounterVec("chainctl_http_request_bytes_total", "Request body bytes read, by route.", "route"),
		responseBytes: reg.NewCounterVec("chainctl_http_response_bytes_total", "Response body bytes written, by route.", "route"),
		inFlight:      reg.NewGauge("chainctl_http_requests_in_flight", "Requests being served now."),
	}
	reg.RegisterRuntime(start)
	m.handler = reg.Handler()
	return m
}

func (m *serverMetrics) observe(route, method string, status int, in, out int64, seconds float64) {
	method = methodLabel(method)
	m.requests.With(route, method, strconv.Itoa(status)).Inc()
	m.duration.With(route, method).Observe(seconds)
	m.requestBytes.With(route).Add(float64(in))
	m.responseBytes.With(route).Add(float64(out))
}

// methodLabel keeps the method label to a fixed set: a client can send any
// token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// routeLabel names the route of r for metrics and logs, from a bounded set.
func (s *Server) routeLabel(r *http.Request) string {
	switch p := r.URL.Path; {
	case p == "/v2" || strings.HasPrefix(p, "/v2/"):
		return s.routeName(r)
	case p == "/healthz":
		return routeHealthz
	case p == "/readyz":
		return routeReadyz
	case p == "/metrics":
		return routeMetrics
	}
	for _, e := range s.routes {
		if e.matches(r.URL.Path) {
			return e.label
		}
	}
	return routeOther
}
