package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
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

// healthResponse is the body of GET /health: the status only, but for an
// admin's token, which is also shown each dependency and why it fails.
type healthResponse struct {
	Status string                 `json:"status"`
	Checks map[string]checkResult `json:"checks,omitempty"`
}

// Statuses of GET /health.
const (
	healthOK          = "ok"
	healthUnavailable = "unavailable"
	checkFailing      = "failing"
)

// healthTimeout bounds each probe, so a hung dependency makes /health
// answer 503 instead of hanging its callers.
const healthTimeout = 3 * time.Second

// health probes every dependency in parallel and answers 200 when all are
// ok, 503 otherwise. The public answer is the status alone: a dependency's
// error may name hosts, users or versions, so it is logged, and shown only
// to a request with an admin's token.
func (s *server) health(checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		res := healthResponse{Status: healthOK, Checks: make(map[string]checkResult, len(checks))}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range checks {
			wg.Go(func() {
				cr := checkResult{Status: healthOK}
				if err := c.Probe(ctx); err != nil {
					cr = checkResult{Status: checkFailing, Error: err.Error()}
				}
				mu.Lock()
				res.Checks[c.Name] = cr
				mu.Unlock()
			})
		}
		wg.Wait()
		status := http.StatusOK
		for name, c := range res.Checks {
			if c.Status != healthOK {
				res.Status, status = healthUnavailable, http.StatusServiceUnavailable
				requestLogger(r.Context()).WarnContext(r.Context(), "health: dependency failing", "dependency", name, "error", c.Error)
			}
		}
		if !s.isAdmin(r) {
			res.Checks = nil
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, r, status, res)
	}
}

// isAdmin reports whether the request bears a valid admin's token. It
// answers nothing itself: a request without one is served the public view.
func (s *server) isAdmin(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" || s.o.Tokens == nil {
		return false
	}
	p, err := s.o.Tokens.Verify(r.Context(), strings.TrimSpace(token))
	return err == nil && p.Role == auth.RoleAdmin
}
