package metrics

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// sdkBuckets are the Temporal SDK's timers' histogram buckets, in seconds:
// from a millisecond (a poll's round trip) to about nine minutes (a long
// activity), doubling.
var sdkBuckets = prometheus.ExponentialBuckets(0.001, 2, 20)

// sdkCollector keeps the series the Temporal SDK emits through sdkHandler.
// The SDK names a metric and sets its tags as it goes, and the same metric
// comes with different tag sets (a poll's has no activity_type, an
// execution's has), so the series cannot be fixed Prometheus vectors: each
// is its own metric with its tags as constant labels, made on first use.
// The collector is unchecked (it describes nothing), which is what lets one
// family have series with different label names.
type sdkCollector struct {
	mu     sync.Mutex
	series map[string]prometheus.Collector
	order  []prometheus.Collector
}

func newSDKCollector() *sdkCollector {
	return &sdkCollector{series: map[string]prometheus.Collector{}}
}

// Describe sends nothing: see sdkCollector.
func (c *sdkCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series made so far.
func (c *sdkCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	all := append([]prometheus.Collector(nil), c.order...)
	c.mu.Unlock()
	for _, s := range all {
		s.Collect(ch)
	}
}

// get returns the series of kind, name and tags, made by mk the first time.
func (c *sdkCollector) get(kind, name string, tags map[string]string, mk func(prometheus.Opts) prometheus.Collector) prometheus.Collector {
	name = sanitize(name)
	labels := prometheus.Labels{}
	for k, v := range tags {
		labels[sanitize(k)] = v
	}
	key := seriesKey(kind, name, labels)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.series[key]; ok {
		return s
	}
	s := mk(prometheus.Opts{Name: name, Help: "Temporal Go SDK metric " + name + ".", ConstLabels: labels})
	c.series[key] = s
	c.order = append(c.order, s)
	return s
}

func seriesKey(kind, name string, labels prometheus.Labels) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(kind + "\x00" + name)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + labels[k])
	}
	return b.String()
}

// sanitize makes s a valid Prometheus metric or label name. The SDK's
// names and tags already are; this only guards against a future one.
func sanitize(s string) string {
	b := []byte(s)
	for i, r := range b {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

// sdkHandler is the client.MetricsHandler the worker's Temporal client is
// dialled with: counters, gauges and timers (histograms in seconds) under
// the SDK's own names (temporal_activity_execution_latency, ...).
type sdkHandler struct {
	c    *sdkCollector
	tags map[string]string
}

var _ client.MetricsHandler = sdkHandler{}

// WithTags returns a handler whose metrics carry tags over the handler's
// own (a key in both takes the new value).
func (h sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return sdkHandler{c: h.c, tags: merged}
}

// Counter is the counter name with the handler's tags.
func (h sdkHandler) Counter(name string) client.MetricsCounter {
	s := h.c.get("counter", name, h.tags, func(o prometheus.Opts) prometheus.Collector {
		return prometheus.NewCounter(prometheus.CounterOpts(o))
	}).(prometheus.Counter)
	return counter{s}
}

// Gauge is the gauge name with the handler's tags.
func (h sdkHandler) Gauge(name string) client.MetricsGauge {
	s := h.c.get("gauge", name, h.tags, func(o prometheus.Opts) prometheus.Collector {
		return prometheus.NewGauge(prometheus.GaugeOpts(o))
	}).(prometheus.Gauge)
	return gauge{s}
}

// Timer is the histogram name, in seconds, with the handler's tags.
func (h sdkHandler) Timer(name string) client.MetricsTimer {
	s := h.c.get("timer", name, h.tags, func(o prometheus.Opts) prometheus.Collector {
		return prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: o.Name, Help: o.Help, ConstLabels: o.ConstLabels, Buckets: sdkBuckets,
		})
	}).(prometheus.Histogram)
	return timer{s}
}

type counter struct{ c prometheus.Counter }

// Inc adds d; the SDK never sends a negative one, which a Prometheus
// counter would refuse with a panic.
func (c counter) Inc(d int64) {
	if d > 0 {
		c.c.Add(float64(d))
	}
}

type gauge struct{ g prometheus.Gauge }

// Update sets the gauge to v.
func (g gauge) Update(v float64) { g.g.Set(v) }

type timer struct{ h prometheus.Histogram }

// Record observes d in seconds.
func (t timer) Record(d time.Duration) { t.h.Observe(d.Seconds()) }
