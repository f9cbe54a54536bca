package activities

import (
	"context"
	"errors"

	"github.com/storeplatform/storeplatform/internal/store"
)

// FleetStore reads and sets what a fleet rollout needs. store.MongoRepository
// implements it.
type FleetStore interface {
	Fleet(ctx context.Context, engine, owner string) ([]store.Record, error)
	Get(ctx context.Context, name string) (store.Record, error)
	SetCurrentChartVersion(ctx context.Context, version string) error
}

// RolloutQuery selects the stores of a rollout.
type RolloutQuery struct {
	Engine       string `json:"engine,omitempty"`
	Tenant       string `json:"tenant,omitempty"`
	ChartVersion string `json:"chartVersion"`
}

// RolloutTarget is a store a rollout is to upgrade.
type RolloutTarget struct {
	Name       string `json:"name"`
	Generation int    `json:"generation"`
}

// ListRolloutTargets lists, by name, the stores of the selector that are
// not deleted and not on the version yet. A store with no recorded version
// (made before versions were recorded) is always listed: its upgrade finds
// out, and makes no revision when it is on the version already.
func (a *Activities) ListRolloutTargets(ctx context.Context, q RolloutQuery) ([]RolloutTarget, error) {
	recs, err := a.Fleet.Fleet(ctx, q.Engine, q.Tenant)
	if err != nil {
		return nil, err
	}
	out := []RolloutTarget{}
	for _, r := range recs {
		if r.ChartVersion != q.ChartVersion {
			out = append(out, RolloutTarget{Name: r.Name, Generation: r.Generation})
		}
	}
	return out, nil
}

// StoreNow is a store's record as a rollout batch finds it.
type StoreNow struct {
	Spec     store.Spec  `json:"spec"`
	Phase    store.Phase `json:"phase"`
	Revision int         `json:"revision"`
	// SpecVersion is the record's: an upgrade applies to it.
	SpecVersion int `json:"specVersion,omitempty"`
}

// GetStores reads the records of names; a store that is gone is left out.
func (a *Activities) GetStores(ctx context.Context, names []string) (map[string]StoreNow, error) {
	out := map[string]StoreNow{}
	for _, n := range names {
		r, err := a.Fleet.Get(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[n] = StoreNow{Spec: r.Spec, Phase: r.Phase, Revision: r.Revision, SpecVersion: r.SpecVersion}
	}
	return out, nil
}

// SetCurrentChartVersion makes version the one new stores get.
func (a *Activities) SetCurrentChartVersion(ctx context.Context, version string) error {
	return a.Fleet.SetCurrentChartVersion(ctx, version)
}
