// Package metrics holds the worker's Prometheus metrics: the Temporal SDK's
// own, through a client.MetricsHandler of our own (TemporalHandler), and the
// platform's: activity durations by activity and outcome, Helm install and
// upgrade durations, WaitReady durations and stores by phase. Handler serves
// them all; whoever owns the worker's HTTP listener mounts it at /metrics.
//
// The SDK's handler is written here on top of the Prometheus client the API
// already uses, rather than taken from go.temporal.io/sdk/contrib/tally:
// that would bring uber-go/tally and its Prometheus reporter (a second
// client library) for four small types.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Names of the platform's worker metrics.
const (
	ActivityDuration  = "storeplatform_activity_duration_seconds"
	HelmDuration      = "storeplatform_helm_action_duration_seconds"
	WaitReadyDuration = "storeplatform_wait_ready_duration_seconds"
	Stores            = "storeplatform_stores"
)

// Outcomes of an activity, a Helm action or a wait, as the "outcome" label
// has them.
const (
	OutcomeOK = "ok"
	// OutcomeError is a failure Temporal retries.
	OutcomeError = "error"
	// OutcomeFailed is a non-retryable failure (one of activities.Err*).
	OutcomeFailed = "failed"
	// OutcomeCanceled is an attempt canceled or timed out (its context
	// ended): the workflow was canceled, or the worker stopped.
	OutcomeCanceled = "canceled"
)

// durationBuckets fit the platform's actions: a record update takes
// milliseconds, an install seconds, a wait for a store's workloads minutes.
var durationBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200}

// Worker is one worker process's metrics. It is safe for concurrent use.
type Worker struct {
	reg       *prometheus.Registry
	sdk       *sdkCollector
	activity  *prometheus.HistogramVec
	helm      *prometheus.HistogramVec
	waitReady *prometheus.HistogramVec
	stores    *prometheus.GaugeVec
}

// NewWorker makes the worker's metrics, in a registry of their own with the
// Go runtime's and the process's.
func NewWorker() *Worker {
	w := &Worker{
		reg: prometheus.NewRegistry(),
		sdk: newSDKCollector(),
		activity: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: ActivityDuration, Help: "Duration of activity attempts run by this worker, by activity and outcome (ok, error, failed, canceled).",
			Buckets: durationBuckets,
		}, []string{"activity", "outcome"}),
		helm: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: HelmDuration, Help: "Duration of Helm installs and upgrades of store releases, by action and outcome.",
			Buckets: durationBuckets,
		}, []string{"action", "outcome"}),
		waitReady: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: WaitReadyDuration, Help: "Duration of WaitReady attempts, until the store's workloads were ready (ok), failed, or the attempt ended.",
			Buckets: durationBuckets,
		}, []string{"outcome"}),
		stores: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: Stores, Help: "Store records by phase, read at scrape time.",
		}, []string{"phase"}),
	}
	w.reg.MustRegister(w.sdk, w.activity, w.helm, w.waitReady, w.stores,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return w
}

// TemporalHandler is the metrics handler to dial the worker's Temporal
// client with (client.Options.MetricsHandler): the SDK's metrics end up in
// this registry.
func (w *Worker) TemporalHandler() client.MetricsHandler {
	return sdkHandler{c: w.sdk}
}

// PhaseCounter counts store records by phase; store.MongoRepository
// implements it.
type PhaseCounter interface {
	CountByPhase(ctx context.Context) (map[store.Phase]int, error)
}

// Handler serves the metrics in Prometheus's text format. With phases, the
// stores gauge is read from the records first, with the scrape's context;
// a failed read leaves the last values (and is not an error of the scrape:
// the other metrics are still worth having).
func (w *Worker) Handler(phases PhaseCounter) http.Handler {
	h := promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if phases != nil {
			if counts, err := phases.CountByPhase(r.Context()); err == nil {
				w.stores.Reset()
				for p, n := range counts {
					w.stores.WithLabelValues(string(p)).Set(float64(n))
				}
			}
		}
		h.ServeHTTP(rw, r)
	})
}

// ActivityDone records one activity attempt.
func (w *Worker) ActivityDone(activity string, d time.Duration, err error) {
	w.activity.WithLabelValues(activity, Outcome(err)).Observe(d.Seconds())
}

// HelmAction records one Helm install or upgrade (activities.Observer).
func (w *Worker) HelmAction(action string, d time.Duration, err error) {
	w.helm.WithLabelValues(action, Outcome(err)).Observe(d.Seconds())
}

// WaitReady records one WaitReady attempt (activities.Observer).
func (w *Worker) WaitReady(d time.Duration, err error) {
	w.waitReady.WithLabelValues(Outcome(err)).Observe(d.Seconds())
}

// Outcome classifies err for the outcome label.
func Outcome(err error) string {
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || temporal.IsCanceledError(err):
		return OutcomeCanceled
	case errors.As(err, &app) && app.NonRetryable():
		return OutcomeFailed
	default:
		return OutcomeError
	}
}
