package platform

import (
	"context"
	"fmt"
	"log/slog"

	"k8s.io/client-go/metadata"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/kubewatch"
	"github.com/storeplatform/storeplatform/internal/store"
)

// NewActivities builds the activities of cfg over d once for the worker's
// lifetime (ctx): the chart, its versions and its profile's values are
// loaded, the Helm runner and the metadata client created, the watch of the
// stores' workloads started, the store collection's indexes ensured, the
// installation's identity read from MongoDB (made on the first start) and
// STORE_ROLE_BINDINGS parsed.
func NewActivities(ctx context.Context, cfg config.Config, d *deps.Deps, logger *slog.Logger) (*activities.Activities, error) {
	access, err := activities.ParseStoreAccess(cfg.StoreRoleBindings)
	if err != nil {
		return nil, fmt.Errorf("STORE_ROLE_BINDINGS: %w", err)
	}
	c, err := loadChart(cfg)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfig(d.KubeConfig)
	if err != nil {
		return nil, err
	}
	runner, err := helmclient.NewRunner(d.KubeConfig, logger)
	if err != nil {
		return nil, err
	}
	// One watch per workload type over every store, for the waits; it
	// stops with ctx (the worker's life).
	watch, err := kubewatch.Start(ctx, d.KubeConfig, activities.LabelStore, logger)
	if err != nil {
		return nil, fmt.Errorf("watch the stores' workloads: %w", err)
	}
	repo := store.NewMongoRepository(d.DB)
	if err := repo.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("mongodb indexes: %w", err)
	}
	id, err := store.EnsureInstallationID(ctx, d.DB)
	if err != nil {
		return nil, err
	}
	runner.Labels = map[string]string{activities.LabelInstallation: id}
	logger.Info("platform installation", "installation", id)
	return &activities.Activities{
		Kube: d.Kube, Metadata: md, Releases: runner, Stores: repo, Fleet: repo, Records: repo, Installation: id, Workflows: d.Temporal,
		Chart: c.current, Profile: c.profile, Versions: c.versions, Logger: logger, HelmSlots: activities.NewHelmSlots(cfg.HelmConcurrency),
		Watch: watch, StoreAccess: access,
	}, nil
}
