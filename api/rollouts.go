package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/storeplatform/storeplatform/internal/auth"
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
type RolloutSummary struct {
	ID           string `json:"id"`
	WorkflowID   string `json:"workflowId"`
	ChartVersion string `json:"chartVersion"`
	// Status is Temporal's: Running, Completed, Failed, Canceled, ...; the
	// rollout's own status is in GET /api/rollouts/{id}.
	Status    string    `json:"status"`
	StartedAt time.Time `json:"startedAt"`
}

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

const memoChartVersion = "chartVersion"

// admin answers 403 unless the caller is an admin.
func (s *server) admin(w http.ResponseWriter, r *http.Request) bool {
	if principal(r).Role != auth.RoleAdmin {
		fail(w, r, newProblem(ProblemForbidden, "only an admin may run fleet rollouts"))
		return false
	}
	return true
}

// defaultChartVersion is the chart version a new store gets: the one the
// last rollout whose canary passed set, else the chart in CHART_DIR.
func (s *server) defaultChartVersion(ctx context.Context) (string, error) {
	v, err := s.o.Stores.CurrentChartVersion(ctx)
	if err != nil || v != "" || s.o.Versions == nil {
		return v, err
	}
	return s.o.Versions.Current().Metadata.Version, nil
}

func (s *server) listChartVersions(w http.ResponseWriter, r *http.Request) {
	def, err := s.defaultChartVersion(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ChartVersions{Default: def, Items: s.o.Versions.List()})
}

// startRollout handles POST /api/rollouts: validates, refuses a second
// running rollout, and starts RolloutStores.
func (s *server) startRollout(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	var req RolloutRequest
	if p := decodeJSON(w, r, &req); p != nil {
		fail(w, r, p)
		return
	}
	in := workflows.RolloutInput{RolloutSettings: workflows.RolloutSettings{ChartVersion: req.ChartVersion, Canary: 1, BatchSize: 10,
		Selector: req.Selector}, Timeouts: s.o.Timeouts}
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
		fail(w, r, invalid("some fields are not valid", bad...))
		return
	}
	running, err := s.rollouts(r.Context(), "ExecutionStatus='Running'")
	if err != nil {
		fail(w, r, err)
		return
	}
	if len(running) > 0 {
		p := newProblem(ProblemOperationRunning, "rollout "+running[0].ID+" is running: wait for it, or abort it")
		p.Operation, p.WorkflowID = "rollout", running[0].WorkflowID
		fail(w, r, p)
		return
	}
	in.ID = fmt.Sprintf("%s-%d", req.ChartVersion, s.o.Now().UnixMilli())
	_, err = workflows.StartRollout(r.Context(), s.o.Temporal, s.o.TaskQueue, in)
	s.metrics.started("RolloutStores", err)
	if err != nil {
		fail(w, r, err)
		return
	}
	_ = s.audit(r, "rollout", in.ID)
	w.Header().Set("Location", "/api/rollouts/"+url.PathEscape(in.ID))
	writeJSON(w, http.StatusAccepted, RolloutSummary{ID: in.ID, WorkflowID: workflows.RolloutWorkflowID(in.ID), ChartVersion: in.ChartVersion,
		Status: "Running", StartedAt: s.o.Now().UTC()})
}

// rollouts lists RolloutStores workflows from Temporal's visibility,
// newest first; and, when set, narrowed by a visibility query. A rollout
// is a chain of runs (ContinueAsNew after each batch): it is listed once,
// with the status of its newest run and the start of its first.
func (s *server) rollouts(ctx context.Context, and string) ([]RolloutSummary, error) {
	// The rollouts of this platform: the task queue its workers serve (one
	// Temporal namespace may hold several platforms, or test runs).
	q := fmt.Sprintf("WorkflowType='RolloutStores' AND TaskQueue=%q", s.o.TaskQueue)
	if and != "" {
		q += " AND " + and
	}
	out := []RolloutSummary{}
	seen := map[string]int{}
	var token []byte
	for {
		resp, err := s.o.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			rs := RolloutSummary{ID: strings.TrimPrefix(id, workflows.RolloutWorkflowID("")), WorkflowID: id, Status: e.GetStatus().String(),
				StartedAt: e.GetStartTime().AsTime()}
			if p, ok := e.GetMemo().GetFields()[memoChartVersion]; ok {
				_ = s.o.DataConverter.FromPayload(p, &rs.ChartVersion)
			}
			if i, ok := seen[id]; ok {
				// An older run of a listed rollout: it started the rollout
				// if it started earlier.
				if rs.StartedAt.Before(out[i].StartedAt) {
					out[i].StartedAt = rs.StartedAt
				}
				if out[i].ChartVersion == "" {
					out[i].ChartVersion = rs.ChartVersion
				}
				continue
			}
			seen[id] = len(out)
			out = append(out, rs)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return out, nil
		}
	}
}

func (s *server) listRollouts(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	items, err := s.rollouts(r.Context(), "")
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RolloutList{Items: items})
}

// getRollout answers the rollout workflow's query: per-store states,
// counts, the batch.
func (s *server) getRollout(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	st, err := s.queryRollout(r.Context(), mux.Vars(r)["id"])
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		fail(w, r, newProblem(ProblemNotFound, "no rollout "+mux.Vars(r)["id"]))
		return
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// signalRollout handles POST /api/rollouts/{id}/pause|resume|abort.
func (s *server) signalRollout(signal string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.admin(w, r) {
			return
		}
		name := mux.Vars(r)["id"]
		id := workflows.RolloutWorkflowID(name)
		d, err := s.o.Temporal.DescribeWorkflow(r.Context(), id, "")
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			fail(w, r, newProblem(ProblemNotFound, "no rollout "+name))
			return
		case err != nil:
			fail(w, r, err)
			return
		case d.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			fail(w, r, newProblem(ProblemConflict, "rollout "+name+" has ended ("+d.Status.String()+")"))
			return
		}
		if err := s.o.Temporal.SignalWorkflow(r.Context(), id, "", signal, nil); err != nil {
			fail(w, r, err)
			return
		}
		_ = s.audit(r, "rollout-"+signal, name)
		writeJSON(w, http.StatusAccepted, map[string]string{"rollout": name, "workflowId": id, "signal": signal})
	}
}

// rolloutQueryTimeout bounds one query of a rollout's state; queryRollout
// asks up to rolloutQueryAttempts times.
const (
	rolloutQueryTimeout  = 6 * time.Second
	rolloutQueryAttempts = 3
)

// queryRollout asks the rollout workflow for its state. A query times out
// when the worker that last ran the workflow (its sticky queue) died: the
// server keeps sending queries there until that worker has not polled for
// a few seconds, then to the other workers. So a timed-out query is asked
// again (make chaos scenario 7 saw 500s right after worker kills); after
// the last attempt the timeout is an unavailable dependency (503).
func (s *server) queryRollout(ctx context.Context, id string) (workflows.RolloutState, error) {
	var st workflows.RolloutState
	var err error
	for range rolloutQueryAttempts {
		qctx, cancel := context.WithTimeout(ctx, rolloutQueryTimeout)
		var v converter.EncodedValue
		v, err = s.o.Temporal.QueryWorkflow(qctx, workflows.RolloutWorkflowID(id), "", workflows.QueryRollout)
		cancel()
		if err == nil {
			return st, v.Get(&st)
		}
		var timedOut *serviceerror.DeadlineExceeded
		if ctx.Err() != nil || !errors.As(err, &timedOut) && !errors.Is(err, context.DeadlineExceeded) {
			return st, err
		}
	}
	return st, errNoWorker{err}
}

// errNoWorker is a query that no worker answered in time: 503.
type errNoWorker struct{ err error }

func (e errNoWorker) Error() string { return "no worker answered the query: " + e.err.Error() }
func (e errNoWorker) Unwrap() error { return e.err }

// rolloutEvents handles GET /api/rollouts/{id}/events: the rollout's state
// as Server-Sent Events ("rollout"), sent whenever it changes, until the
// rollout ends or the client leaves.
func (s *server) rolloutEvents(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	id := mux.Vars(r)["id"]
	st, err := s.queryRollout(r.Context(), id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		fail(w, r, newProblem(ProblemNotFound, "no rollout "+id))
		return
	}
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
		if next, err := s.queryRollout(ctx, id); err == nil {
			st = next
		} else if ctx.Err() == nil {
			requestLogger(ctx).WarnContext(ctx, "rollout event stream", "rollout", id, "error", err.Error())
		}
	}
}
