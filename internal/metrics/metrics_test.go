package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/storeplatform/storeplatform/internal/store"
)

// scrape returns h's answer to GET /metrics.
func scrape(t *testing.T, w *Worker, phases PhaseCounter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	w.Handler(phases).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestTemporalHandlerSeries: what the SDK sends through the handler is
// served under its own names, with its tags as labels, also when one name
// comes with different tag sets (which fixed Prometheus vectors refuse).
func TestTemporalHandlerSeries(t *testing.T) {
	w := NewWorker()
	h := w.TemporalHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "q"})
	h.Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"operation": "PollActivityTaskQueue"}).Counter("temporal_request").Inc(1)
	h.WithTags(map[string]string{"task_queue": "other"}).Counter("temporal_request").Inc(1)
	h.Counter("temporal_request").Inc(1) // the same series again
	h.Gauge("temporal_worker_task_slots_available").Update(7)
	h.WithTags(map[string]string{"activity_type": "WaitReady"}).Timer("temporal_activity_execution_latency").Record(1500 * time.Millisecond)
	h.Counter("bad-name.x").Inc(1)
	out := scrape(t, w, nil)
	for _, want := range []string{
		`temporal_request{namespace="default",task_queue="q"} 3`,
		`temporal_request{namespace="default",operation="PollActivityTaskQueue",task_queue="q"} 1`,
		`temporal_request{namespace="default",task_queue="other"} 1`,
		`temporal_worker_task_slots_available{namespace="default",task_queue="q"} 7`,
		`temporal_activity_execution_latency_sum{activity_type="WaitReady",namespace="default",task_queue="q"} 1.5`,
		`temporal_activity_execution_latency_count{activity_type="WaitReady",namespace="default",task_queue="q"} 1`,
		`bad_name_x{namespace="default",task_queue="q"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %q in:\n%s", want, out)
		}
	}
}

type phases map[store.Phase]int

func (p phases) CountByPhase(context.Context) (map[store.Phase]int, error) { return p, nil }

type failingPhases struct{}

func (failingPhases) CountByPhase(context.Context) (map[store.Phase]int, error) {
	return nil, errors.New("mongodb down")
}

// TestPlatformSeries: activity, Helm and wait durations by their labels,
// and stores by phase as the records are at each scrape (a phase with no
// store left is dropped; a failed read keeps the last values).
func TestPlatformSeries(t *testing.T) {
	w := NewWorker()
	w.ActivityDone("InstallRelease", 2*time.Second, nil)
	w.ActivityDone("CreateNamespace", time.Second, temporal.NewNonRetryableApplicationError("taken", "NamespaceConflict", nil))
	w.HelmAction("install", 3*time.Second, nil)
	w.HelmAction("upgrade", time.Second, errors.New("apiserver gone"))
	w.WaitReady(5*time.Second, nil)

	tests := []struct {
		name   string
		phases PhaseCounter
		want   []string
		absent []string
	}{
		{"first scrape", phases{store.PhaseReady: 2, store.PhaseProvisioning: 1}, []string{
			`storeplatform_activity_duration_seconds_count{activity="InstallRelease",outcome="ok"} 1`,
			`storeplatform_activity_duration_seconds_sum{activity="InstallRelease",outcome="ok"} 2`,
			`storeplatform_activity_duration_seconds_count{activity="CreateNamespace",outcome="failed"} 1`,
			`storeplatform_helm_action_duration_seconds_sum{action="install",outcome="ok"} 3`,
			`storeplatform_helm_action_duration_seconds_count{action="upgrade",outcome="error"} 1`,
			`storeplatform_wait_ready_duration_seconds_sum{outcome="ok"} 5`,
			`storeplatform_stores{phase="ready"} 2`,
			`storeplatform_stores{phase="provisioning"} 1`,
		}, nil},
		{"a phase emptied", phases{store.PhaseReady: 3}, []string{`storeplatform_stores{phase="ready"} 3`}, []string{`phase="provisioning"`}},
		{"records unreadable", failingPhases{}, []string{`storeplatform_stores{phase="ready"} 3`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := scrape(t, w, tt.phases)
			for _, want := range tt.want {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("no line %q", want)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("%q still served", a)
				}
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, OutcomeOK},
		{errors.New("connection refused"), OutcomeError},
		{temporal.NewApplicationError("retry me", "Transient"), OutcomeError},
		{temporal.NewNonRetryableApplicationError("bad chart", "InvalidChart", nil), OutcomeFailed},
		{fmt.Errorf("wait: %w", context.Canceled), OutcomeCanceled},
		{context.DeadlineExceeded, OutcomeCanceled},
		{temporal.NewCanceledError(), OutcomeCanceled},
	}
	for _, tt := range tests {
		if got := Outcome(tt.err); got != tt.want {
			t.Errorf("Outcome(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// TestDashboardQueriesServedSeries: every series docs/grafana/workers.json
// queries is one the worker serves: the platform's by their constants, the
// SDK's by the names TestTwoWorkersShareTheQueue scrapes or the operations
// guide lists, so a renamed metric fails here rather than blank a panel.
func TestDashboardQueriesServedSeries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "grafana", "workers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{ActivityDuration: true, HelmDuration: true, WaitReadyDuration: true, Stores: true,
		"temporal_activity_schedule_to_start_latency": true, "temporal_worker_task_slots_available": true,
		"process_cpu_seconds_total": true}
	name := regexp.MustCompile(`\b(storeplatform_|temporal_|process_)[a-z_]+`)
	queried := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				queried++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")
				if !served[base] {
					t.Errorf("panel %q queries %s, which the worker does not serve", p.Title, n)
				}
			}
		}
	}
	if queried == 0 {
		t.Fatal("the dashboard queries nothing")
	}
}
