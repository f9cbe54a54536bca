package worker_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/metrics"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/worker"
)

type recordedAttempt struct{ activity, outcome string }

type attempts []recordedAttempt

func (a *attempts) ActivityDone(activity string, _ time.Duration, err error) {
	*a = append(*a, recordedAttempt{activity, metrics.Outcome(err)})
}

// TestInterceptorLogsAndRecordsActivities: through the worker's
// interceptor, an activity's log lines carry workflowId, runId, activity
// and store, and each attempt is recorded with its outcome.
func TestInterceptorLogsAndRecordsActivities(t *testing.T) {
	taken := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: storeSpec("taken", store.EngineWooCommerce, 1).Namespace()}}
	tests := []struct {
		name    string
		spec    store.Spec
		wantLog string // the activity's own message; "" for none
		outcome string
	}{
		{"created", storeSpec("shop", store.EngineWooCommerce, 1), "namespace created", metrics.OutcomeOK},
		{"namespace of another owner", storeSpec("taken", store.EngineWooCommerce, 1), "", metrics.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			var got attempts
			var s testsuite.WorkflowTestSuite
			aenv := s.NewTestActivityEnvironment()
			aenv.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{worker.NewInterceptor(logger, &got)}})
			acts := &activities.Activities{Kube: fake.NewClientset(taken.DeepCopy()), Logger: slog.New(slog.DiscardHandler),
				Installation: "00112233445566778899aabbccddeeff"}
			aenv.RegisterActivity(acts)
			_, _ = aenv.ExecuteActivity(acts.CreateNamespace, activities.NamespaceInput{Spec: tt.spec})

			if len(got) != 1 || got[0] != (recordedAttempt{"CreateNamespace", tt.outcome}) {
				t.Fatalf("recorded %v, want one CreateNamespace %s", got, tt.outcome)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if tt.wantLog == "" {
				if buf.Len() != 0 {
					t.Fatalf("logged %q", buf.String())
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("log lines %q, want 1", lines)
			}
			var l map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
				t.Fatal(err)
			}
			if l["msg"] != tt.wantLog || l["activity"] != "CreateNamespace" || l["store"] != tt.spec.Name ||
				l["workflowId"] == "" || l["workflowId"] == nil || l["runId"] == "" || l["runId"] == nil {
				t.Fatalf("log line %v, want %q with workflowId, runId, activity CreateNamespace and store %s", l, tt.wantLog, tt.spec.Name)
			}
		})
	}
}
