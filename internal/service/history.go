package service

import (
	"context"
	"sort"
	"time"

	"helm.sh/helm/v3/pkg/release"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// Revision is one revision of a store's release. It carries no values:
// only the spec fields that changed.
type Revision struct {
	Revision     int       `json:"revision"`
	ChartVersion string    `json:"chartVersion"`
	AppVersion   string    `json:"appVersion,omitempty"`
	Status       string    `json:"status"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Description  string    `json:"description,omitempty"`
	// Size is the size this revision ran with.
	Size string `json:"size"`
	// Suspended is true for a revision that suspended the store.
	Suspended bool `json:"suspended,omitempty"`
	// Changes lists what changed in the spec since the revision before,
	// as "field: old -> new".
	Changes []string `json:"changes"`
}

// StoreHistory returns the record of name, if who may see it, and its
// release's revisions, newest first; none for a deleted store.
func (s *Service) StoreHistory(ctx context.Context, who Caller, name string) (store.Record, []Revision, error) {
	rec, err := s.VisibleStore(ctx, who, name)
	if err != nil || rec.Phase.Gone() {
		return rec, []Revision{}, err
	}
	hist, err := s.c.Releases.History(ctx, rec.Namespace, rec.Name)
	if err != nil {
		return rec, nil, err
	}
	return rec, revisions(hist), nil
}

// revisions describes the releases of hist, newest first, each with the
// spec changes since the one before.
func revisions(hist []*release.Release) []Revision {
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	out := make([]Revision, len(hist))
	var prev *store.Spec
	for i, rel := range hist {
		spec := storechart.SpecFromValues(rel.Config)
		rv := Revision{Revision: rel.Version, Size: spec.SizeOrDefault(), Suspended: spec.Suspended, Changes: []string{}}
		if rel.Chart != nil && rel.Chart.Metadata != nil {
			rv.ChartVersion, rv.AppVersion = rel.Chart.Metadata.Version, rel.Chart.Metadata.AppVersion
		}
		if rel.Info != nil {
			rv.Status, rv.Description, rv.UpdatedAt = rel.Info.Status.String(), rel.Info.Description, rel.Info.LastDeployed.Time
		}
		if prev != nil {
			rv.Changes = append(rv.Changes, storechart.SpecChanges(*prev, spec)...)
		}
		prev = &spec
		out[len(hist)-1-i] = rv
	}
	return out
}
