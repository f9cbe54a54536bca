// Package activities holds the Temporal activities that do Store Platform's
// I/O: Kubernetes, Helm and MongoDB. Every activity is idempotent: run twice
// with the same input it leaves the same state, and "already exists" or
// "not found" count as success where that is the truth. Permanent failures
// are non-retryable application errors whose type is one of the Err*
// constants of errors.go; everything else is retried by the workflow's policy.
package activities

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/storeplatform/storeplatform/internal/kubewatch"
	"github.com/storeplatform/storeplatform/internal/logctx"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// Labels the platform puts on what it owns.
const (
	LabelStore      = "storeplatform.io/store"
	LabelGeneration = "storeplatform.io/generation"
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	ManagedBy       = "storeplatform"
)

// Releases runs Helm actions. helmclient.Runner implements it.
type Releases interface {
	History(ctx context.Context, namespace, name string) ([]*release.Release, error)
	Install(ctx context.Context, namespace, name string, c *chart.Chart, vals map[string]any) (*release.Release, error)
	Upgrade(ctx context.Context, namespace, name string, c *chart.Chart, vals map[string]any, description string) (*release.Release, error)
	Rollback(ctx context.Context, namespace, name string, revision int) error
	Uninstall(ctx context.Context, namespace, name string, wait bool) error
}

// StatusWriter records a store's status. store.MongoRepository implements it.
type StatusWriter interface {
	UpdateStatus(ctx context.Context, u store.StatusUpdate) error
	UpdateOperation(ctx context.Context, u store.OperationUpdate) error
	HoldHost(ctx context.Context, name string, generation int, host string) error
}

// WorkflowDescriber tells whether a workflow still runs. client.Client
// implements it.
type WorkflowDescriber interface {
	DescribeWorkflow(ctx context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error)
}

// Activities holds the dependencies of every activity. It is built once in
// main and shared: its clients are safe for concurrent use.
type Activities struct {
	Kube     kubernetes.Interface
	Metadata metadata.Interface
	Releases Releases
	Stores   StatusWriter
	// Fleet reads the stores of a rollout; nil in tests without rollouts.
	Fleet FleetStore
	// Installation is this platform installation's identity
	// (store.EnsureInstallationID), stamped as LabelInstallation on what
	// the activities make; they claim nothing that lacks it.
	Installation string
	// Records reads the store records that decide whether a namespace made
	// before installations had an identity is this one's; nil: no such
	// namespace is adopted.
	Records   RecordReader
	Workflows WorkflowDescriber
	// Chart is charts/store, loaded once; Profile holds the profile's
	// values (values-local.yaml or values-prod.yaml) and its sizes', layered
	// under each store's own.
	Chart   *chart.Chart
	Profile storechart.Profile
	// Versions are the chart versions a store may ask for (Spec.ChartVersion);
	// nil: only Chart.
	Versions *storechart.Versions
	Logger   *slog.Logger
	// PollInterval is how often waits look again (default 2s); with Watch,
	// they wake on changes and read the API server every few seconds anyway.
	PollInterval time.Duration
	// Watch is the worker's shared watch of the stores' workloads; nil:
	// waits poll.
	Watch *kubewatch.Watcher
	// CrashLoopLimit is how many restarts in CrashLoopBackOff make a
	// workload failed (default 5).
	CrashLoopLimit int32
	// HelmSlots bounds the Helm actions running at once (HELM_CONCURRENCY):
	// a buffered channel of that size; nil: no bound. Helm actions are the
	// worker's CPU work; waits cost next to nothing, so the worker can take
	// many more activities than it runs Helm actions.
	HelmSlots chan struct{}
	// StoreAccess are the RoleBindings made in every store namespace
	// (STORE_ROLE_BINDINGS); none when the worker's own credentials reach
	// every namespace (local development).
	StoreAccess []StoreAccess
	// Metrics records the durations of Helm actions and waits
	// (internal/metrics.Worker); nil: none.
	Metrics Observer
}

// Observer records what the activities measure. Every error is the
// action's own (nil: it succeeded).
type Observer interface {
	// HelmAction records one Helm install or upgrade.
	HelmAction(action string, d time.Duration, err error)
	// WaitReady records one attempt of WaitReady, from its start until the
	// store was ready, failed, or the attempt ended.
	WaitReady(d time.Duration, err error)
}

// NewHelmSlots is a HelmSlots of n (n <= 0: no bound).
func NewHelmSlots(n int) chan struct{} {
	if n <= 0 {
		return nil
	}
	return make(chan struct{}, n)
}

// helmTurn waits, heartbeating through the caller's keepAlive, for one of
// HelmSlots; the returned func gives it back.
func (a *Activities) helmTurn(ctx context.Context) (func(), error) {
	if a.HelmSlots == nil {
		return func() {}, nil
	}
	select {
	case a.HelmSlots <- struct{}{}:
		return func() { <-a.HelmSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *Activities) pollInterval() time.Duration {
	if a.PollInterval <= 0 {
		return 2 * time.Second
	}
	return a.PollInterval
}

// log is the logger of the activity running in ctx: the one WithLogger put
// there (the worker's interceptor, with the activity's workflowId, runId,
// activity and store), else Logger.
func (a *Activities) log(ctx context.Context) *slog.Logger {
	if a.Logger == nil {
		return logctx.From(ctx, slog.New(slog.DiscardHandler))
	}
	return logctx.From(ctx, a.Logger)
}
