package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storeplatform/storeplatform/internal/store"
)

// TestFailMapsCodes: fail turns each store code into its problem, the
// error's message becoming the detail.
func TestFailMapsCodes(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		typ    string
		check  func(t *testing.T, p Problem)
	}{
		{"not found", store.Errorf(store.CodeNotFound, "no store named shop"), http.StatusNotFound, ProblemNotFound, nil},
		{"conflict", fmt.Errorf("insert: %w", store.Errorf(store.CodeConflict, "the name shop is taken")), http.StatusConflict, ProblemConflict, nil},
		{"limit", store.Errorf(store.CodeLimit, "tenant acme already has 5 stores"), http.StatusConflict, ProblemStoreLimitReached, nil},
		{"forbidden", store.Errorf(store.CodeForbidden, "only an admin may"), http.StatusForbidden, ProblemForbidden, nil},
		{"busy", &store.Error{Code: store.CodeBusy, Message: "a change runs", Operation: "change", WorkflowID: "store/shop/1/operation"},
			http.StatusConflict, ProblemOperationRunning, func(t *testing.T, p Problem) {
				t.Helper()
				if p.Operation != "change" || p.WorkflowID != "store/shop/1/operation" {
					t.Errorf("operation %q, workflow %q", p.Operation, p.WorkflowID)
				}
			}},
		{"invalid field", &store.Error{Code: store.CodeInvalid, Message: "the cursor is not valid", Field: "cursor", Reason: "is not a cursor"},
			http.StatusBadRequest, ProblemValidation, func(t *testing.T, p Problem) {
				t.Helper()
				if len(p.Errors) != 1 || p.Errors[0] != (FieldError{Field: "cursor", Message: "is not a cursor"}) {
					t.Errorf("errors %+v", p.Errors)
				}
			}},
		{"unavailable", store.Errorf(store.CodeUnavailable, "no worker answered"), http.StatusServiceUnavailable, ProblemUnavailable, nil},
		{"a problem as it is", newProblem(ProblemTooLarge, "too large"), http.StatusRequestEntityTooLarge, ProblemTooLarge, nil},
		{"no code", errors.New("boom"), http.StatusInternalServerError, ProblemInternal, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			fail(rec, httptest.NewRequest(http.MethodGet, "/api/stores/shop", nil), tt.err)
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.status || p.Status != tt.status || p.Type != tt.typ {
				t.Fatalf("%d %s, want %d %s", rec.Code, p.Type, tt.status, tt.typ)
			}
			if code := store.ErrorCode(tt.err); code != store.CodeInternal && code != store.CodeUnavailable && p.Detail != store.ErrorMessage(tt.err) {
				t.Errorf("detail %q, want the error's message", p.Detail)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}
