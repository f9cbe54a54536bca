package worker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthEndpoints: /healthz answers at once; /readyz only once the
// worker polls and Temporal answers; /metrics serves the registry.
func TestHealthEndpoints(t *testing.T) {
	down := errors.New("connection refused")
	for _, tt := range []struct {
		name     string
		started  bool
		pingErr  error
		path     string
		want     int
		wantBody string
	}{
		{"alive before start", false, nil, "/healthz", http.StatusOK, "ok"},
		{"not ready before start", false, nil, "/readyz", http.StatusServiceUnavailable, "not polling"},
		{"ready when polling and temporal answers", true, nil, "/readyz", http.StatusOK, "ok"},
		{"not ready when temporal is down", true, down, "/readyz", http.StatusServiceUnavailable, "temporal: connection refused"},
		{"alive when temporal is down", true, down, "/healthz", http.StatusOK, "ok"},
		{"metrics", true, nil, "/metrics", http.StatusOK, "go_goroutines"},
		{"nothing else", true, nil, "/debug/pprof/", http.StatusNotFound, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHealth(func(context.Context) error { return tt.pingErr })
			if tt.started {
				h.Started()
			}
			srv := httptest.NewServer(h.Handler())
			defer srv.Close()
			res, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("%s: %d %q, want %d containing %q", tt.path, res.StatusCode, body, tt.want, tt.wantBody)
			}
		})
	}
}
