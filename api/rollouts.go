package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/service"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// RolloutRequest is the body of POST /api/rollouts.
type RolloutRequest struct {
	ChartVersion string                    `json:"chartVersion"`
	Canary       *int                      `json:"canary,omitempty"`
	BatchSize    *int                      `json:"batchSize,omitempty"`
	MaxFailures  *int                      `json:"maxFailures,omitempty"`
	Selector     workflows.RolloutSelector `json:"selector"`
}

// RolloutSummary is one rollout in GET /api/rollouts.
type RolloutSummary = service.RolloutSummary

// RolloutList is the answer of GET /api/rollouts, newest first.
type RolloutList struct {
	Items []RolloutSummary `json:"items"`
}

// ChartVersions is the answer of GET /api/chart-versions.
type ChartVersions struct {
	// Default is the version a new store gets.
	Default string                    `json:"default"`
	Items   []storechart.ChartVersion `json:"items"`
}

// admin answers 403 unless who is an admin.
func admin(w http.ResponseWriter, r *http.Request, who service.Caller) bool {
	if who.Role != auth.RoleAdmin {
		fail(w, r, newProblem(ProblemForbidden, "only an admin may run fleet rollouts"))
		return false
	}
	return true
}

func (s *server) listChartVersions(w http.ResponseWriter, r *http.Request) {
	def, err := s.svc.DefaultChartVersion(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, ChartVersions{Default: def, Items: s.o.Versions.List()})
}

// startRollout handles POST /api/rollouts: validates, and has the service
// start RolloutStores unless a rollout runs (service.StartRollout).
func (s *server) startRollout(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	if !admin(w, r, who) {
		return
	}
	in, p := s.decodeRollout(w, r)
	if p != nil {
		fail(w, r, p)
		return
	}
	sum, err := s.svc.StartRollout(r.Context(), who, in)
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/rollouts/"+url.PathEscape(sum.ID))
	writeJSON(w, r, http.StatusAccepted, sum)
}

// decodeRollout decodes and validates a rollout request: the input of
// RolloutStores, with the defaults for what it leaves out.
func (s *server) decodeRollout(w http.ResponseWriter, r *http.Request) (workflows.RolloutInput, *Problem) {
	var req RolloutRequest
	if p := decodeJSON(w, r, &req); p != nil {
		return workflows.RolloutInput{}, p
	}
	in := workflows.RolloutInput{RolloutSettings: workflows.RolloutSettings{ChartVersion: req.ChartVersion, Canary: 1, BatchSize: 10,
		Selector: req.Selector}}
	var bad []FieldError
	if req.ChartVersion == "" || s.o.Versions.Get(req.ChartVersion) == nil {
		bad = append(bad, FieldError{Field: "chartVersion", Message: "is not a chart version of this platform (see GET /api/chart-versions)"})
	}
	if req.Canary != nil {
		in.Canary = *req.Canary
		if in.Canary < 1 || in.Canary > 100 {
			bad = append(bad, FieldError{Field: "canary", Message: "must be from 1 to 100"})
		}
	}
	if req.BatchSize != nil {
		in.BatchSize = *req.BatchSize
		if in.BatchSize < 1 || in.BatchSize > 100 {
			bad = append(bad, FieldError{Field: "batchSize", Message: "must be from 1 to 100"})
		}
	}
	if req.MaxFailures != nil {
		in.MaxFailures = *req.MaxFailures
		if in.MaxFailures < 0 {
			bad = append(bad, FieldError{Field: "maxFailures", Message: "must be 0 or more"})
		}
	}
	if e := req.Selector.Engine; e != "" && e != store.EngineWooCommerce && e != store.EngineMedusa {
		bad = append(bad, FieldError{Field: "selector.engine", Message: MsgEngine})
	}
	if len(bad) > 0 {
		return in, invalid("some fields are not valid", bad...)
	}
	return in, nil
}

func (s *server) listRollouts(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r, caller(r)) {
		return
	}
	items, err := s.svc.Rollouts(r.Context(), "")
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, RolloutList{Items: items})
}

// getRollout answers the rollout workflow's query: per-store states,
// counts, the batch.
func (s *server) getRollout(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r, caller(r)) {
		return
	}
	st, err := s.svc.Rollout(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, st)
}

// signalRollout handles POST /api/rollouts/{id}/pause|resume|abort.
func (s *server) signalRollout(signal string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who := caller(r)
		if !admin(w, r, who) {
			return
		}
		sg, err := s.svc.SignalRollout(r.Context(), who, mux.Vars(r)["id"], signal)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusAccepted, map[string]string{"rollout": sg.Name, "workflowId": sg.WorkflowID, "signal": sg.Signal})
	}
}

// rolloutEvents handles GET /api/rollouts/{id}/events: the rollout's state
// as Server-Sent Events ("rollout"), sent whenever it changes, until the
// rollout ends or the client leaves.
func (s *server) rolloutEvents(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r, caller(r)) {
		return
	}
	id := mux.Vars(r)["id"]
	st, err := s.svc.Rollout(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	flusher, ok := s.openEventStream(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	poll := time.NewTicker(eventPoll)
	defer poll.Stop()
	var last []byte
	for {
		data, _ := json.Marshal(st)
		if string(data) != string(last) {
			last = data
			fmt.Fprintf(w, "event: rollout\ndata: %s\n\n", data)
			flusher.Flush()
		}
		if st.Status == workflows.RolloutCompleted || st.Status == workflows.RolloutFailed || st.Status == workflows.RolloutAborted {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.o.Stop:
			return
		case <-poll.C:
		}
		if next, err := s.svc.Rollout(ctx, id); err == nil {
			st = next
		} else if ctx.Err() == nil {
			requestLogger(ctx).WarnContext(ctx, "rollout event stream", "rollout", id, "error", err.Error())
		}
	}
}
