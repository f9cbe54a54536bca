package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/stretchr/testify/mock"

	"github.com/storeplatform/storeplatform/internal/service"
	"github.com/storeplatform/storeplatform/workflows"
)

// TestDependencyDownIs503: while MongoDB or Temporal cannot be reached
// the API answers 503 problem+json with Retry-After (the chaos suite saw
// 500s while FerretDB was down); other errors stay 500.
func TestDependencyDownIs503(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"mongo server selection", fmt.Errorf("list stores: %w", topology.ServerSelectionError{Wrapped: errors.New("server selection timeout")}), http.StatusServiceUnavailable},
		{"mongo network error", fmt.Errorf("get: %w", mongo.CommandError{Message: "connection refused", Labels: []string{"NetworkError"}}), http.StatusServiceUnavailable},
		{"mongo timeout", fmt.Errorf("insert: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"mongo disconnected", mongo.ErrClientDisconnected, http.StatusServiceUnavailable},
		{"mongo pool cleared (a request in flight when it went away)", fmt.Errorf("insert: %w", poolCleared{}), http.StatusServiceUnavailable},
		{"temporal unavailable", serviceerror.NewUnavailable("connection refused"), http.StatusServiceUnavailable},
		{"anything else", errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			fail(rec, httptest.NewRequest(http.MethodGet, "/api/stores", nil), tt.err)
			if rec.Code != tt.want || rec.Header().Get("Content-Type") != problemContentType {
				t.Fatalf("%d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
			if tt.want == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
}

// poolCleared behaves as the driver's error for a request in flight when
// its connection pool was cleared (its type is not exported): a
// driver.RetryablePoolError that is retryable, without a network label.
type poolCleared struct{}

func (poolCleared) Error() string {
	return "connection pool for 127.0.0.1:27017 was cleared because another operation failed with: EOF"
}

func (poolCleared) Retryable() bool { return true }

// TestRolloutQueryAskedAgainAfterATimeout: a query that timed out (the
// worker holding the rollout's sticky queue just died) is asked again and
// the state answered; when no worker answers at all, 503, not 500.
func TestRolloutQueryAskedAgainAfterATimeout(t *testing.T) {
	timeout := serviceerror.NewDeadlineExceeded("query timed out before a worker could process it")
	for _, tt := range []struct {
		name     string
		timeouts int
		want     int
	}{
		{"answered on the second ask", 1, http.StatusOK},
		{"answered on the last ask", service.RolloutQueryAttempts - 1, http.StatusOK},
		{"never answered", service.RolloutQueryAttempts, http.StatusServiceUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := workflows.RolloutWorkflowID("r1")
			f.temporal.On("QueryWorkflow", mock.Anything, id, "", workflows.QueryRollout).Return(nil, timeout).Times(tt.timeouts)
			if tt.timeouts < service.RolloutQueryAttempts {
				val := &mocks.Value{}
				val.On("Get", mock.Anything).Run(func(args mock.Arguments) {
					*(args.Get(0).(*workflows.RolloutState)) = workflows.RolloutState{Status: workflows.RolloutRunning}
				}).Return(nil)
				f.temporal.On("QueryWorkflow", mock.Anything, id, "", workflows.QueryRollout).Return(val, nil).Once()
			}
			rec := f.do(t, http.MethodGet, "/api/rollouts/r1", adminToken, "")
			if rec.Code != tt.want {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if tt.want == http.StatusOK && !strings.Contains(rec.Body.String(), string(workflows.RolloutRunning)) {
				t.Fatalf("body %s", rec.Body)
			}
			f.temporal.AssertExpectations(t)
		})
	}
}
