package worker

import (
	"context"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/kubewatch"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// ActivityDeps are the connected clients the activities use.
type ActivityDeps struct {
	Kube       kubernetes.Interface
	RESTConfig *rest.Config
	DB         *mongo.Database
	Temporal   client.Client
	Logger     *slog.Logger
	// HelmConcurrency bounds the Helm actions running at once (0: none).
	HelmConcurrency int
}

// NewActivities builds the activities once for the worker's lifetime (ctx):
// the chart and its profile's values are loaded, the Helm runner and the
// metadata client created, the watch of the stores' workloads started, the
// store collection's indexes ensured, and the installation's identity read
// from MongoDB (made on the first start).
func NewActivities(ctx context.Context, d ActivityDeps, chartDir, versionsDir, profile string) (*activities.Activities, error) {
	c, err := storechart.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("CHART_DIR: %w", err)
	}
	versions, err := storechart.LoadVersions(c, versionsDir)
	if err != nil {
		return nil, fmt.Errorf("CHART_VERSIONS_DIR: %w", err)
	}
	prof, err := storechart.LoadProfile(chartDir, profile)
	if err != nil {
		return nil, fmt.Errorf("STORE_PROFILE: %w", err)
	}
	md, err := metadata.NewForConfig(d.RESTConfig)
	if err != nil {
		return nil, err
	}
	runner, err := helmclient.NewRunner(d.RESTConfig, d.Logger)
	if err != nil {
		return nil, err
	}
	// One watch per workload type over every store, for the waits; it
	// stops with ctx (the worker's life).
	watch, err := kubewatch.Start(ctx, d.RESTConfig, activities.LabelStore, d.Logger)
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
	if d.Logger != nil {
		d.Logger.Info("platform installation", "installation", id)
	}
	return &activities.Activities{
		Kube: d.Kube, Metadata: md, Releases: runner, Stores: repo, Fleet: repo, Records: repo, Installation: id, Workflows: d.Temporal,
		Chart: c, Profile: prof, Versions: versions, Logger: d.Logger, HelmSlots: activities.NewHelmSlots(d.HelmConcurrency), Watch: watch,
	}, nil
}
