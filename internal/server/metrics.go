package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Route labels for requests outside /v2/.
const (
	routeHealthz = "healthz"
	routeReadyz  = "readyz"
	routeMetrics = "metrics"
	routeOther   = "other"
)

// metrics live on a registry of their own, not prometheus's global default,
// so that two servers in one process (tests) do not collide.
type metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	requestBytes  *prometheus.CounterVec
	responseBytes *prometheus.CounterVec
	inFlight      prometheus.Gauge
	handler       http.Handler
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainctl_http_requests_total",
			Help: "HTTP requests served, by route, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chainctl_http_request_duration_seconds",
			Help: "Time from receiving a request to finishing its response, by route and method.",
			// Manifest and tag requests take milliseconds; blob transfers
			// can take minutes.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"route", "method"}),
		requestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainctl_http_request_bytes_total",
			Help: "Request body bytes read, by route.",
		}, []string{"route"}),
		responseBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainctl_http_response_bytes_total",
			Help: "Response body bytes written, by route.",
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chainctl_http_requests_in_flight",
			Help: "Requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.requestBytes, m.responseBytes, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

func (m *metrics) observe(route, method string, status int, in, out int64, seconds float64) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(seconds)
	m.requestBytes.WithLabelValues(route).Add(float64(in))
	m.responseBytes.WithLabelValues(route).Add(float64(out))
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
