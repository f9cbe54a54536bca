package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"helm.sh/helm/v3/pkg/release"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// ReleaseState is the store's release as an operation finds it.
type ReleaseState struct {
	// Revision is the newest revision, Status its status.
	Revision int    `json:"revision"`
	Status   string `json:"status"`
	// Deployed is the revision that is deployed now (0 when none is).
	Deployed int `json:"deployed"`
}

// GetReleaseState reads the store's release history. A store without a
// release is a permanent InvalidSpec error: there is nothing to change.
func (a *Activities) GetReleaseState(ctx context.Context, in NamespaceInput) (ReleaseState, error) {
	hist, err := a.Releases.History(ctx, in.Spec.Namespace(), in.Spec.Name)
	if err != nil {
		return ReleaseState{}, fmt.Errorf("release history: %w", err)
	}
	if len(hist) == 0 {
		return ReleaseState{}, temporal.NewNonRetryableApplicationError("store "+in.Spec.Name+" has no release", ErrInvalidSpec, nil)
	}
	last := newest(hist)
	st := ReleaseState{Revision: last.Version, Status: last.Info.Status.String()}
	for _, r := range hist {
		if r.Info.Status == release.StatusDeployed && r.Version > st.Deployed {
			st.Deployed = r.Version
		}
	}
	return st, nil
}

// RollbackInput asks for the store's release to be rolled back to Revision.
type RollbackInput struct {
	Spec     store.Spec `json:"spec"`
	Revision int        `json:"revision"`
}

// RollbackResult is the release after RollbackRelease.
type RollbackResult struct {
	// Revision is the new revision the rollback made (or found).
	Revision int `json:"revision"`
	// Spec is the store's spec as the target revision's values hold it.
	Spec store.Spec `json:"spec"`
	// Action is "rollback", or "none" when the newest revision already is
	// this rollback (a retried activity).
	Action string `json:"action"`
	// URL is the store's public URL as the target revision serves it.
	URL string `json:"url,omitempty"`
}

// RollbackRelease rolls the store's release back to in.Revision, making a
// new revision with that revision's chart and values, described as Helm
// describes a rollback ("Rollback to N"). Unlike `helm rollback`, which
// applies the old manifest as it was, it renders the old chart and values
// again with the volume sizes that what runs now allows: volumes only grow
// (a PVC cannot shrink, a StatefulSet's claim template cannot change), so a
// rollback past a resize still applies. It does not wait for the
// workloads. A retry after a rollback that succeeded finds it and does
// nothing; a revision that does not exist is a permanent RevisionNotFound
// error.
func (a *Activities) RollbackRelease(ctx context.Context, in RollbackInput) (RollbackResult, error) {
	ns, name := in.Spec.Namespace(), in.Spec.Name
	ctx, stop, err := a.holdRelease(ctx, ns, name, fmt.Sprintf("rollback of %s to %d", name, in.Revision))
	if err != nil {
		return RollbackResult{}, err
	}
	defer stop()
	hist, err := a.Releases.History(ctx, ns, name)
	if err != nil {
		return RollbackResult{}, fmt.Errorf("release history: %w", err)
	}
	var target *release.Release
	for _, r := range hist {
		if r.Version == in.Revision {
			target = r
		}
	}
	if target == nil {
		msg := fmt.Sprintf("release %s has no revision %d", name, in.Revision)
		return RollbackResult{}, temporal.NewNonRetryableApplicationError(msg, ErrRevisionNotFound, nil)
	}
	res := RollbackResult{Spec: specOf(in.Spec, target), Action: "rollback", URL: storechart.StoreURL(target.Config)}
	if last := newest(hist); last.Info.Status == release.StatusDeployed && last.Info.Description == rollbackDescription(in.Revision) {
		res.Revision, res.Action = last.Version, "none"
		return res, nil
	}
	if target.Chart == nil {
		msg := fmt.Sprintf("revision %d of release %s has no chart", in.Revision, name)
		return RollbackResult{}, temporal.NewNonRetryableApplicationError(msg, ErrRevisionNotFound, nil)
	}
	vals, err := a.withVolumeFloors(ctx, in.Spec, target.Config)
	if err != nil {
		return RollbackResult{}, err
	}
	rel, err := a.Releases.Upgrade(ctx, ns, name, target.Chart, vals, rollbackDescription(in.Revision))
	if err != nil {
		return RollbackResult{}, fmt.Errorf("roll %s back to %d: %w", name, in.Revision, err)
	}
	res.Revision = rel.Version
	return res, nil
}

// rollbackDescription is the description Helm gives a rollback's revision.
func rollbackDescription(revision int) string { return fmt.Sprintf("Rollback to %d", revision) }

// specOf is the store's spec as revision rel's values hold it, with the
// identity (name, generation, engine) of cur.
func specOf(cur store.Spec, rel *release.Release) store.Spec {
	s := storechart.SpecFromValues(rel.Config)
	s.Name, s.Generation, s.Engine = cur.Name, cur.Generation, cur.Engine
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		s.ChartVersion = rel.Chart.Metadata.Version
	}
	if s.Host == "" {
		s.Host = cur.Host
	}
	return s
}

// RecordOperation writes an operation's progress or end to the store's
// record. It reports false, and writes nothing, when the store is being
// created or deleted: a deletion has taken over. An operation whose store
// was changed after it was asked for fails to start with the
// non-retryable ErrSpecChanged.
func (a *Activities) RecordOperation(ctx context.Context, u store.OperationUpdate) (bool, error) {
	err := a.Stores.UpdateOperation(ctx, u)
	switch {
	case errors.Is(err, store.ErrNotOperable):
		return false, nil
	case errors.Is(err, store.ErrSpecChanged):
		return false, temporal.NewNonRetryableApplicationError("store "+u.Name+" was changed after this "+
			"operation was asked for: ask again", ErrSpecChanged, nil)
	}
	return err == nil, err
}
