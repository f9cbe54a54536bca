package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storeplatform/storeplatform/internal/store"
)

// metrics are the API's Prometheus metrics, in a registry of their own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	starts   *prometheus.CounterVec
	stores   *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storeplatform_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "storeplatform_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storeplatform_workflow_starts_total", Help: "Store workflows started (or joined) by the API, by type and result.",
		}, []string{"workflow", "result"}),
		stores: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storeplatform_stores", Help: "Store records by phase, read at scrape time.",
		}, []string{"phase"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.starts, m.stores,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

func (m *metrics) started(workflow string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.starts.WithLabelValues(workflow, result).Inc()
}

// phaseCounter is what /metrics needs of the repository.
type phaseCounter interface {
	CountByPhase(ctx context.Context) (map[store.Phase]int, error)
}

// serveMetrics handles GET /metrics: the store gauge is refreshed from the
// records, with the request's context, before the registry is written.
func (s *server) serveMetrics() http.Handler {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pc, ok := s.o.Stores.(phaseCounter); ok {
			if counts, err := pc.CountByPhase(r.Context()); err == nil {
				for p, n := range counts {
					s.metrics.stores.WithLabelValues(string(p)).Set(float64(n))
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}
