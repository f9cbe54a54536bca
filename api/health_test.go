package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealth(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name       string
		checks     []Check
		wantStatus int
		want       map[string]string // dependency -> status
	}{
		{"all ok", []Check{{"mongodb", ok}, {"temporal", ok}, {"kubernetes", ok}}, http.StatusOK,
			map[string]string{"mongodb": "ok", "temporal": "ok", "kubernetes": "ok"}},
		{"one failing", []Check{{"mongodb", ok}, {"temporal", down}, {"kubernetes", ok}}, http.StatusServiceUnavailable,
			map[string]string{"mongodb": "ok", "temporal": "failing", "kubernetes": "ok"}},
		{"one hanging", []Check{{"mongodb", hang}, {"temporal", ok}}, http.StatusServiceUnavailable,
			map[string]string{"mongodb": "failing", "temporal": "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Router(Options{Checks: tt.checks}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			var body healthResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				got := body.Checks[name]
				if got.Status != want {
					t.Errorf("%s: status %q, want %q", name, got.Status, want)
				}
				if want == "failing" && got.Error == "" {
					t.Errorf("%s: failing without a reason", name)
				}
			}
		})
	}
}
