package api

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storeplatform/storeplatform/internal/auth"
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
			Name: "storeplatform_stores", Help: "Store records by phase, as the API last read them (at most a second before the scrape).",
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

// serveMetrics handles GET /metrics, for an admin's token or the metrics
// token (Options.MetricsToken) only: the store gauge is set from the
// records' phases as the change feed keeps them (one read of the recent
// changes when no event stream keeps the feed running), never from a
// count of the collection per scrape.
func (s *server) serveMetrics() http.Handler {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mayReadMetrics(w, r) {
			return
		}
		if counts, err := s.feed.phases(r.Context()); err == nil {
			for _, p := range store.Phases() {
				s.metrics.stores.WithLabelValues(string(p)).Set(float64(counts[p]))
			}
		} else if r.Context().Err() == nil {
			requestLogger(r.Context()).WarnContext(r.Context(), "metrics: reading the store records", "error", err.Error())
		}
		h.ServeHTTP(w, r)
	})
}

// mayReadMetrics answers 401 or 403 and returns false unless the request
// bears the metrics token or an admin's token.
func (s *server) mayReadMetrics(w http.ResponseWriter, r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		s.unauthorized(w, r, "send Authorization: Bearer <token>: an admin's token or the metrics token")
		return false
	}
	if s.o.MetricsToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.o.MetricsToken)) == 1 {
		return true
	}
	if s.o.Tokens == nil {
		s.unauthorized(w, r, "the token is not the metrics token")
		return false
	}
	p, err := s.o.Tokens.Verify(r.Context(), token)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		s.unauthorized(w, r, "the token is invalid or revoked")
		return false
	case err != nil:
		fail(w, r, err)
		return false
	case p.Role != auth.RoleAdmin:
		fail(w, r, newProblem(ProblemForbidden, "only an admin's token or the metrics token may read the metrics"))
		return false
	}
	return true
}
