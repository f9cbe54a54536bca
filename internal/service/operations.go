package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/release"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// Every operation asks the store's state machine first (OperableStore,
// store.Decide), then checks what it would claim (a host another store
// serves or holds is refused at once), and only then starts OperateStore,
// which holds the new host before its upgrade and keeps the old one until
// it ends.

// OperableStore returns the record of name when operation kind may be
// asked of it: it exists, is visible to who, and is not being created or
// deleted (store.Decide); otherwise the refusal.
func (s *Service) OperableStore(ctx context.Context, who Caller, name, kind string) (store.Record, error) {
	rec, _, err := s.decided(ctx, who, name, store.Request(kind))
	return rec, err
}

// ChangeStore changes rec's spec to target (a Helm upgrade run by
// OperateStore); rec is what OperableStore returned. Nothing to change
// returns no operation and starts nothing.
func (s *Service) ChangeStore(ctx context.Context, who Caller, rec store.Record, target store.Spec) (*store.Operation, error) {
	target, current := s.withDefaults(target), s.withDefaults(rec.Spec)
	if target == current {
		return nil, nil
	}
	in := workflows.OperateStoreInput{Kind: store.OpChange, Spec: current, Target: &target}
	if target.Host != current.Host {
		if err := s.hostAllowed(who, target.Host); err != nil {
			return nil, err
		}
		if err := s.hostFree(ctx, rec.Name, target.Host); err != nil {
			return nil, err
		}
		in.Hosts = []string{target.Host}
	}
	return s.startOperation(ctx, who, rec, in)
}

// SetSuspended suspends (every workload scaled to zero; volumes, Secret
// and release stay) or resumes the store of name.
func (s *Service) SetSuspended(ctx context.Context, who Caller, name string, suspended bool) (store.Record, *store.Operation, error) {
	kind := store.OpResume
	if suspended {
		kind = store.OpSuspend
	}
	rec, err := s.OperableStore(ctx, who, name, kind)
	if err != nil {
		return rec, nil, err
	}
	current := s.withDefaults(rec.Spec)
	target := current
	target.Suspended = suspended
	op, err := s.startOperation(ctx, who, rec, workflows.OperateStoreInput{Kind: kind, Spec: current, Target: &target})
	return rec, op, err
}

// RollbackStore returns the store of name to an earlier revision's chart
// and values (a new revision). The revision must be in the release's
// history and not the one deployed; the host it serves is held as a
// change's is.
func (s *Service) RollbackStore(ctx context.Context, who Caller, name string, revision int) (store.Record, *store.Operation, error) {
	rec, err := s.OperableStore(ctx, who, name, store.OpRollback)
	if err != nil {
		return rec, nil, err
	}
	target, err := s.rollbackTarget(ctx, rec, revision)
	if err != nil {
		return rec, nil, err
	}
	in := workflows.OperateStoreInput{Kind: store.OpRollback, Spec: s.withDefaults(rec.Spec), Revision: revision}
	// The revision's host is served again: a tenant may return only to a
	// host it may choose, and the operation holds it before the rollback.
	if host := storechart.SpecFromValues(target.Config).Host; host != "" && host != rec.Host {
		if fe := s.hostAllowed(who, host); fe != nil {
			return rec, nil, &store.Error{Code: store.CodeInvalid, Message: "the revision's host is not allowed", Field: "revision",
				Reason: fmt.Sprintf("revision %d serves %s, which %s", revision, host, fe.Reason)}
		}
		if err := s.hostFree(ctx, rec.Name, host); err != nil {
			return rec, nil, err
		}
		in.Hosts = []string{host}
	}
	op, err := s.startOperation(ctx, who, rec, in)
	return rec, op, err
}

// rollbackTarget is revision of rec's release, if a rollback may go back
// to it.
func (s *Service) rollbackTarget(ctx context.Context, rec store.Record, revision int) (*release.Release, error) {
	hist, err := s.c.Releases.History(ctx, rec.Namespace, rec.Name)
	if err != nil {
		return nil, err
	}
	var target, deployed *release.Release
	for _, rel := range hist {
		if rel.Version == revision {
			target = rel
		}
		if rel.Info != nil && rel.Info.Status == release.StatusDeployed {
			deployed = rel
		}
	}
	switch {
	case target == nil:
		return nil, &store.Error{Code: store.CodeInvalid, Message: "the release has no such revision", Field: "revision",
			Reason: fmt.Sprintf("store %s has no revision %d: see GET /api/stores/%s/history", rec.Name, revision, rec.Name)}
	case deployed != nil && deployed.Version == revision:
		return nil, &store.Error{Code: store.CodeInvalid, Message: "the store runs that revision", Field: "revision",
			Reason: fmt.Sprintf("revision %d is the one deployed now", revision)}
	}
	return target, nil
}

// hostFree is the conflict naming host when a store other than name
// serves or holds it.
func (s *Service) hostFree(ctx context.Context, name, host string) error {
	holder, err := s.c.Stores.HostHolder(ctx, host)
	if err != nil {
		return err
	}
	if holder != "" && holder != name {
		return hostTaken(host)
	}
	return nil
}

// startOperation starts OperateStore for in and returns the operation as
// it runs; an operation already running on the store is CodeBusy naming
// it.
func (s *Service) startOperation(ctx context.Context, who Caller, rec store.Record, in workflows.OperateStoreInput) (*store.Operation, error) {
	in.Timeouts = s.c.Timeouts
	version := rec.SpecVersion
	in.SpecVersion = &version
	err := s.startOperationWhenFree(ctx, who, rec, in)
	var busy *workflows.OperationBusy
	if !errors.As(err, &busy) {
		s.c.Started("OperateStore", err)
	}
	if err != nil {
		return nil, operationBusy(err)
	}
	s.note(ctx, who, in.Kind, rec.Name)
	return &store.Operation{Kind: in.Kind, WorkflowID: workflows.OperationWorkflowID(rec.Name, rec.Generation), StartedAt: s.c.Now().UTC()}, nil
}

// startOperationWhenFree starts OperateStore, trying again briefly while
// the last operation closes. An operation records its end as its last
// step, then closes: for that moment the record says nothing runs while
// the workflow ID is still taken; rather than answer busy for nothing, the
// record is read again, and the state machine asked again, every 100 ms
// (20 times at most): once it shows the running operation, or refuses the
// operation, that is the answer at once.
func (s *Service) startOperationWhenFree(ctx context.Context, who Caller, rec store.Record, in workflows.OperateStoreInput) error {
	_, err := workflows.StartOperation(ctx, s.c.Temporal, s.c.TaskQueue, in)
	var busy *workflows.OperationBusy
	now := rec
	for try := 0; try < 20 && errors.As(err, &busy) && now.Operation == nil && store.ActiveWorkflow(now.Phase) != store.WorkflowOperation; try++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if now, err = s.OperableStore(ctx, who, rec.Name, in.Kind); err != nil {
			return err
		}
		_, err = workflows.StartOperation(ctx, s.c.Temporal, s.c.TaskQueue, in)
	}
	return err
}

// operationBusy is err, or the CodeBusy error naming the operation that
// runs when err is StartOperation's *workflows.OperationBusy.
func operationBusy(err error) error {
	var busy *workflows.OperationBusy
	if !errors.As(err, &busy) {
		return err
	}
	return &store.Error{Code: store.CodeBusy, Message: busy.Error() + ": wait for it to end, or see its progress",
		Operation: busy.Kind, WorkflowID: busy.WorkflowID}
}
