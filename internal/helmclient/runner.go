package helmclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/storeplatform/storeplatform/internal/logctx"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
)

// requestTimeout bounds each request of the Runner's actions (unless the
// given config sets its own). Helm v3's requests take no context, and an
// install or upgrade runs to its end even when its activity is canceled
// (installed): an API server that stopped answering must not hold the
// activity for ever. The actions make no watches.
const requestTimeout = time.Minute

// Runner runs Helm actions in-process against one cluster. It keeps one
// discovery cache for every namespace, and builds the (cheap) per-namespace
// action configuration per call. It does not wait for workloads: readiness
// is watched separately, so that a slow store never holds a Helm lock.
type Runner struct {
	config    *rest.Config
	discovery discovery.CachedDiscoveryInterface
	logger    *slog.Logger
	// Timeout bounds hooks and resource creation of one action.
	Timeout time.Duration
	// Labels are put on every release this Runner installs or upgrades
	// (Helm's release labels, on its storage Secrets): the worker's
	// installation identity.
	Labels map[string]string
}

// NewRunner returns a Runner for the cluster of cfg.
func NewRunner(cfg *rest.Config, logger *slog.Logger) (*Runner, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = requestTimeout
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Runner{config: cfg, discovery: memory.NewMemCacheClient(dc), logger: logger, Timeout: 5 * time.Minute}, nil
}

// action is the action configuration for namespace; Helm's own log lines
// go to the logger ctx carries (an activity's, with its fields), else the
// Runner's. Its writes are put to the Fence ctx carries (WithFence).
func (r *Runner) action(ctx context.Context, namespace string) (*action.Configuration, error) {
	return r.actionConfig(logctx.From(ctx, r.logger), namespace, fenceOf(ctx))
}

func (r *Runner) actionLogging(logger *slog.Logger, namespace string) (*action.Configuration, error) {
	return r.actionConfig(logger, namespace, nil)
}

func (r *Runner) actionConfig(logger *slog.Logger, namespace string, f Fence) (*action.Configuration, error) {
	g := &Getter{config: fenced(r.config, f), namespace: namespace, discovery: r.discovery}
	ac := new(action.Configuration)
	debug := func(format string, v ...interface{}) {
		logger.Debug(fmt.Sprintf(format, v...), "component", "helm", "namespace", namespace)
	}
	if err := ac.Init(g, namespace, "secret", debug); err != nil {
		return nil, fmt.Errorf("helm init for namespace %s: %w", namespace, err)
	}
	return ac, nil
}

// History returns the release's revisions, oldest first; none when the
// release does not exist.
func (r *Runner) History(ctx context.Context, namespace, name string) ([]*release.Release, error) {
	ac, err := r.action(ctx, namespace)
	if err != nil {
		return nil, err
	}
	h := action.NewHistory(ac)
	h.Max = 256
	rels, err := h.Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	return rels, err
}

// NewInstall builds the install action the platform uses: into an existing
// namespace (the platform creates it, with its labels), without waiting,
// without --atomic (a slow store is not a failed one), replacing a record
// left by an uninstall that kept history.
func NewInstall(ac *action.Configuration, namespace, name string, timeout time.Duration) *action.Install {
	in := action.NewInstall(ac)
	in.Namespace, in.ReleaseName = namespace, name
	in.CreateNamespace = false
	in.Wait, in.Atomic = false, false
	in.Replace = true
	in.Timeout = timeout
	// The API server validates what it is sent; Helm's own client-side
	// check fetched and parsed the server's OpenAPI documents on every
	// install, 57% of the worker's CPU in make bench's profile.
	in.DisableOpenAPIValidation = true
	return in
}

// NewUpgrade builds the upgrade action: full values each time (no reuse of
// old values), no wait, no atomic rollback, a bounded history.
func NewUpgrade(ac *action.Configuration, namespace string, timeout time.Duration) *action.Upgrade {
	up := action.NewUpgrade(ac)
	up.Namespace = namespace
	up.Wait, up.Atomic = false, false
	up.ReuseValues, up.ResetValues = false, true
	up.MaxHistory = 10
	up.Timeout = timeout
	up.DisableOpenAPIValidation = true // as NewInstall
	return up
}

// Install installs the chart as release name.
func (r *Runner) Install(ctx context.Context, namespace, name string, c *chart.Chart, vals map[string]any) (*release.Release, error) {
	ac, err := r.action(ctx, namespace)
	if err != nil {
		return nil, err
	}
	in := NewInstall(ac, namespace, name, r.Timeout)
	in.Labels = r.Labels
	return installed(ctx, ac, in, c, vals)
}

// installed runs in to its end and makes the storage say what it reported.
//
// Helm's actions are not given ctx's cancellation. Helm v3's
// RunWithContext returns as soon as ctx ends while its own goroutine goes
// on creating the objects and recording the release (those calls take no
// context): the activity would report the end while its writes still land
// behind the next activity's back. The upgrade is worse: it marks the
// release failed from a second goroutine while the first still writes the
// same release (a data race, seen by -race when a deletion canceled a
// change), and leaves that goroutine blocked for good on a channel nobody
// reads. So the activity waits for Helm's work, which has no hooks and no
// wait here and so is bounded by its requests (see requestTimeout).
func installed(ctx context.Context, ac *action.Configuration, in *action.Install, c *chart.Chart, vals map[string]any) (*release.Release, error) {
	rel, err := in.RunWithContext(context.WithoutCancel(ctx), c, vals)
	if err != nil {
		return rel, err
	}
	return rel, ensureRecorded(ctx, ac, rel)
}

// Upgrade upgrades release name to the chart and values. description, when
// not empty, is the new revision's description (e.g. "Rollback to 3");
// Helm's own is "Upgrade complete".
func (r *Runner) Upgrade(ctx context.Context, namespace, name string, c *chart.Chart, vals map[string]any, description string) (*release.Release, error) {
	ac, err := r.action(ctx, namespace)
	if err != nil {
		return nil, err
	}
	up := NewUpgrade(ac, namespace, r.Timeout)
	up.Description = description
	up.Labels = r.Labels
	return upgraded(ctx, ac, up, name, c, vals)
}

// upgraded runs up to its end, whatever ctx does (as installed), and
// makes the storage say what it reported.
func upgraded(ctx context.Context, ac *action.Configuration, up *action.Upgrade, name string, c *chart.Chart, vals map[string]any) (*release.Release, error) {
	rel, err := up.RunWithContext(context.WithoutCancel(ctx), name, c, vals)
	if err != nil {
		return rel, err
	}
	return rel, ensureRecorded(ctx, ac, rel)
}

// ensureRecorded makes the release storage say what Helm reported: rel
// deployed, and no older revision still deployed. Helm's install and
// upgrade mark the release deployed in memory and, when the API server
// cannot store that (it was restarted at that moment), only log it and
// report success (pkg/action install.go and upgrade.go of v3.22.0,
// recordRelease): the store would run while its release says
// pending-install, and its next change would take it for a release that
// never deployed. It writes until the API server takes it or ctx ends
// (then the error makes the activity retry, which recovers the release).
func ensureRecorded(ctx context.Context, ac *action.Configuration, rel *release.Release) error {
	for {
		err := recordedOnce(ac, rel)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("record release %s revision %d as %s: %w", rel.Name, rel.Version, rel.Info.Status, err)
		case <-time.After(time.Second):
		}
	}
}

func recordedOnce(ac *action.Configuration, rel *release.Release) error {
	hist, err := ac.Releases.History(rel.Name)
	if err != nil {
		return err
	}
	for _, h := range hist {
		switch {
		case h.Version == rel.Version && h.Info.Status != rel.Info.Status:
			if err := ac.Releases.Update(rel); err != nil {
				return err
			}
		case h.Version < rel.Version && h.Info.Status == release.StatusDeployed:
			h.Info.Status = release.StatusSuperseded
			if err := ac.Releases.Update(h); err != nil {
				return err
			}
		}
	}
	return nil
}

// Rollback rolls release name back to revision.
func (r *Runner) Rollback(ctx context.Context, namespace, name string, revision int) error {
	ac, err := r.action(ctx, namespace)
	if err != nil {
		return err
	}
	rb := action.NewRollback(ac)
	rb.Version, rb.Timeout, rb.MaxHistory = revision, r.Timeout, 10
	return rb.Run(name)
}

// Uninstall removes release name; a release that does not exist is
// success. Without wait it returns once the deletions are asked for
// (deleting the namespace is the final cleanup). With wait it deletes in
// the foreground and returns when the objects and their pods are gone:
// what a reinstall of the same names needs (a StatefulSet's new pod
// cannot be made while the old one of that name waits for the garbage
// collector).
func (r *Runner) Uninstall(ctx context.Context, namespace, name string, wait bool) error {
	ac, err := r.action(ctx, namespace)
	if err != nil {
		return err
	}
	un := action.NewUninstall(ac)
	un.IgnoreNotFound, un.Wait, un.Timeout = true, wait, r.Timeout
	if wait {
		un.DeletionPropagation = "foreground"
	}
	_, err = un.Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	return err
}
