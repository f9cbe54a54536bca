package service

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// ActiveWorkflowID is the ID of the workflow working on the store, if
// any.
func ActiveWorkflowID(rec store.Record) string {
	return workflows.WorkflowID(store.ActiveWorkflow(rec.Phase), rec.Name, rec.Generation)
}

// Progress asks the workflow working on the store, if any, for its
// progress; nil when none runs or it does not answer.
func (s *Service) Progress(ctx context.Context, rec store.Record) *workflows.Progress {
	id := ActiveWorkflowID(rec)
	if id == "" {
		return nil
	}
	p, err := s.QueryProgress(ctx, id)
	if err != nil {
		return nil
	}
	return p
}

// QueryProgress asks the workflow id for its progress.
func (s *Service) QueryProgress(ctx context.Context, id string) (*workflows.Progress, error) {
	v, err := s.c.Temporal.QueryWorkflow(ctx, id, "", workflows.QueryProgress)
	if err != nil {
		return nil, err
	}
	var p workflows.Progress
	if err := v.Get(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// WorkflowClosed reports whether the workflow id's latest run has closed.
func (s *Service) WorkflowClosed(ctx context.Context, id string) (bool, error) {
	d, err := s.c.Temporal.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return false, err
	}
	return d.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}
