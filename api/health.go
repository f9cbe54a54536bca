package api

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Check is one dependency probed by GET /health.
type Check struct {
	// Name is how the dependency is reported ("mongodb", "temporal", ...).
	Name string
	// Probe returns nil when the dependency is usable.
	Probe func(context.Context) error
}

// checkResult is the JSON shape of one dependency's health.
type checkResult struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// healthResponse is the body of GET /health.
type healthResponse struct {
	Status string                 `json:"status"`
	Checks map[string]checkResult `json:"checks"`
}

// healthTimeout bounds each probe, so a hung dependency makes /health
// answer 503 instead of hanging its callers.
const healthTimeout = 3 * time.Second

// health probes every dependency in parallel and answers 200 when all are
// ok, 503 otherwise, with each one's status and the reason of a failure.
func health(checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		res := healthResponse{Status: "ok", Checks: make(map[string]checkResult, len(checks))}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range checks {
			wg.Go(func() {
				cr := checkResult{Status: "ok"}
				if err := c.Probe(ctx); err != nil {
					cr = checkResult{Status: "failing", Error: err.Error()}
				}
				mu.Lock()
				res.Checks[c.Name] = cr
				mu.Unlock()
			})
		}
		wg.Wait()
		status := http.StatusOK
		for _, c := range res.Checks {
			if c.Status != "ok" {
				res.Status, status = "failing", http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, status, res)
	}
}
