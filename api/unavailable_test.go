package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
	"go.temporal.io/api/serviceerror"
)

// TestDependencyDownIs503: while MongoDB or Temporal cannot be reached
// the API answers 503 problem+json with Retry-After (the chaos suite saw
// 500s while FerretDB was down); other errors stay 500.
func TestDependencyDownIs503(t *testing.T) {
	s := &server{o: Options{Logger: slog.New(slog.DiscardHandler)}}
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
			s.fail(rec, httptest.NewRequest(http.MethodGet, "/api/stores", nil), tt.err)
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
