package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// RolloutSummary is one rollout as a listing shows it.
type RolloutSummary struct {
	ID           string `json:"id"`
	WorkflowID   string `json:"workflowId"`
	ChartVersion string `json:"chartVersion"`
	// Status is Temporal's: Running, Completed, Failed, Canceled, ...; the
	// rollout's own status is in its state (Rollout).
	Status    string    `json:"status"`
	StartedAt time.Time `json:"startedAt"`
}

// DefaultChartVersion is the chart version a new store gets: the one the
// last rollout whose canary passed set, else the chart in CHART_DIR.
func (s *Service) DefaultChartVersion(ctx context.Context) (string, error) {
	v, err := s.c.Stores.CurrentChartVersion(ctx)
	if err != nil || v != "" || s.c.Versions == nil {
		return v, err
	}
	return s.c.Versions.Current().Metadata.Version, nil
}

// StartRollout starts RolloutStores for in (its ID made from its chart
// version and the time, its timeouts the service's); a rollout that runs
// already is CodeBusy naming it.
func (s *Service) StartRollout(ctx context.Context, who Caller, in workflows.RolloutInput) (RolloutSummary, error) {
	running, err := s.Rollouts(ctx, "ExecutionStatus='Running'")
	if err != nil {
		return RolloutSummary{}, err
	}
	if len(running) > 0 {
		return RolloutSummary{}, &store.Error{Code: store.CodeBusy, Message: "rollout " + running[0].ID + " is running: wait for it, or abort it",
			Operation: "rollout", WorkflowID: running[0].WorkflowID}
	}
	in.ID, in.Timeouts = fmt.Sprintf("%s-%d", in.ChartVersion, s.c.Now().UnixMilli()), s.c.Timeouts
	_, err = workflows.StartRollout(ctx, s.c.Temporal, s.c.TaskQueue, in)
	s.c.Started("RolloutStores", err)
	if err != nil {
		return RolloutSummary{}, err
	}
	s.note(ctx, who, "rollout", in.ID)
	return RolloutSummary{ID: in.ID, WorkflowID: workflows.RolloutWorkflowID(in.ID), ChartVersion: in.ChartVersion,
		Status: "Running", StartedAt: s.c.Now().UTC()}, nil
}

// Rollouts lists RolloutStores workflows from Temporal's visibility,
// newest first; and, when set, narrowed by a visibility query. A rollout
// is a chain of runs (ContinueAsNew after each batch): it is listed once,
// with the status of its newest run and the start of its first.
func (s *Service) Rollouts(ctx context.Context, and string) ([]RolloutSummary, error) {
	// The rollouts of this platform: the task queue its workers serve (one
	// Temporal namespace may hold several platforms, or test runs).
	q := fmt.Sprintf("WorkflowType='RolloutStores' AND TaskQueue=%q", s.c.TaskQueue)
	if and != "" {
		q += " AND " + and
	}
	out := []RolloutSummary{}
	seen := map[string]int{}
	var token []byte
	for {
		resp, err := s.c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			rs := s.rolloutSummary(ctx, e.GetExecution().GetWorkflowId(), e.GetStatus(), e.GetStartTime().AsTime(), e.GetMemo())
			if i, ok := seen[rs.WorkflowID]; ok {
				out[i] = earlierRun(out[i], rs)
				continue
			}
			seen[rs.WorkflowID] = len(out)
			out = append(out, rs)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// rolloutSummary is the summary of one run of a rollout; a chart version
// its memo does not give is logged and left empty.
func (s *Service) rolloutSummary(ctx context.Context, id string, status enumspb.WorkflowExecutionStatus, started time.Time, memo *commonpb.Memo) RolloutSummary {
	rs := RolloutSummary{ID: strings.TrimPrefix(id, workflows.RolloutWorkflowID("")), WorkflowID: id, Status: status.String(), StartedAt: started}
	if p, ok := memo.GetFields()[workflows.MemoChartVersion]; ok {
		if err := s.c.DataConverter.FromPayload(p, &rs.ChartVersion); err != nil {
			s.logger(ctx).WarnContext(ctx, "rollout memo", "rollout", rs.ID, "error", err.Error())
		}
	}
	return rs
}

// earlierRun is the listed rollout rs once an older run of it is seen: it
// started the rollout if it started earlier.
func earlierRun(rs, older RolloutSummary) RolloutSummary {
	if older.StartedAt.Before(rs.StartedAt) {
		rs.StartedAt = older.StartedAt
	}
	if rs.ChartVersion == "" {
		rs.ChartVersion = older.ChartVersion
	}
	return rs
}

// SignalRollout sends signal (pause, resume, abort) to the rollout id; a
// rollout that has ended is CodeConflict.
func (s *Service) SignalRollout(ctx context.Context, who Caller, id, signal string) (Signalled, error) {
	wid := workflows.RolloutWorkflowID(id)
	d, err := s.c.Temporal.DescribeWorkflow(ctx, wid, "")
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return Signalled{}, noRollout(id)
	case err != nil:
		return Signalled{}, err
	case d.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return Signalled{}, store.Errorf(store.CodeConflict, "rollout %s has ended (%s)", id, d.Status.String())
	}
	if err := s.c.Temporal.SignalWorkflow(ctx, wid, "", signal, nil); err != nil {
		return Signalled{}, err
	}
	s.note(ctx, who, "rollout-"+signal, id)
	return Signalled{Name: id, WorkflowID: wid, Signal: signal}, nil
}

// noRollout is the error of an ID without a rollout.
func noRollout(id string) error { return store.Errorf(store.CodeNotFound, "no rollout %s", id) }

// rolloutQueryTimeout bounds one query of a rollout's state; Rollout asks
// up to RolloutQueryAttempts times.
const (
	rolloutQueryTimeout  = 6 * time.Second
	RolloutQueryAttempts = 3
)

// Rollout asks the rollout workflow id for its state: per-store states,
// counts, the batch. A query times out when the worker that last ran the
// workflow (its sticky queue) died: the server keeps sending queries there
// until that worker has not polled for a few seconds, then to the other
// workers. So a timed-out query is asked again (make chaos scenario 7 saw
// 500s right after worker kills); after the last attempt the timeout is
// CodeUnavailable.
func (s *Service) Rollout(ctx context.Context, id string) (workflows.RolloutState, error) {
	var st workflows.RolloutState
	var err error
	for range RolloutQueryAttempts {
		qctx, cancel := context.WithTimeout(ctx, rolloutQueryTimeout)
		var v converter.EncodedValue
		v, err = s.c.Temporal.QueryWorkflow(qctx, workflows.RolloutWorkflowID(id), "", workflows.QueryRollout)
		cancel()
		var nf *serviceerror.NotFound
		switch {
		case err == nil:
			return st, v.Get(&st)
		case errors.As(err, &nf):
			return st, noRollout(id)
		}
		var timedOut *serviceerror.DeadlineExceeded
		if ctx.Err() != nil || !errors.As(err, &timedOut) && !errors.Is(err, context.DeadlineExceeded) {
			return st, err
		}
	}
	return st, store.Errorf(store.CodeUnavailable, "no worker answered the query: %s", err.Error())
}
