package worker

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is the worker's probe and metrics listener (WORKER_HTTP_ADDR):
// /healthz answers while the process serves; /readyz once the worker polls
// its task queue (Started) and Temporal answers (Ping); /metrics the Go and
// process metrics of a registry of its own, for the worker's metrics to
// join.
type Health struct {
	// Ping asks Temporal whether it answers; nil: not asked.
	Ping     func(ctx context.Context) error
	started  atomic.Bool
	Registry *prometheus.Registry
	// Metrics, when set, serves /metrics instead of Registry: the worker's
	// metrics (internal/metrics.Worker.Handler).
	Metrics http.Handler
}

// NewHealth returns a Health, not yet started, whose registry holds the Go
// and process collectors.
func NewHealth(ping func(ctx context.Context) error) *Health {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Health{Ping: ping, Registry: reg}
}

// Started marks the worker as polling; Options.Started calls it.
func (h *Health) Started() { h.started.Store(true) }

// Handler serves /healthz, /readyz and /metrics.
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !h.started.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("worker not polling yet\n"))
			return
		}
		if h.Ping != nil {
			// A probe's own timeout is usually 1 s: answer within it.
			ctx, cancel := context.WithTimeout(r.Context(), 900*time.Millisecond)
			defer cancel()
			if err := h.Ping(ctx); err != nil {
				// The error names no secret: it is Temporal's connection error.
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("temporal: " + err.Error() + "\n"))
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if h.Metrics != nil {
		mux.Handle("GET /metrics", h.Metrics)
	} else {
		mux.Handle("GET /metrics", promhttp.HandlerFor(h.Registry, promhttp.HandlerOpts{}))
	}
	return mux
}
